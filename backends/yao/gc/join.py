"""One GarbledCircuit from the chunks of one garbling (garble.py: same R, same tweak_base,
first_instance = each chunk's offset): what the evaluator receives is the same as if the
instances had been garbled at once, so chunks can be garbled on different workers."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from veil.backends.yao.gc.types import GarbledCircuit


def join_garbled(parts: Sequence[GarbledCircuit]) -> GarbledCircuit:
    """The chunks in instance order as one GarbledCircuit; refuses chunks that are not one
    garbling's consecutive instances."""
    if not parts:
        raise ValueError("no garbled chunks to join")
    if len(parts) == 1:
        return parts[0]
    first, expected = parts[0], parts[0].first_instance
    for p in parts:
        if (p.tweak_base, p.scheme) != (first.tweak_base, first.scheme):
            raise ValueError("garbled chunks of different garblings (tweak base or scheme)")
        if p.first_instance != expected or p.decoding.keys() != first.decoding.keys():
            raise ValueError("garbled chunks are not consecutive chunks of one circuit")
        expected += p.n_instances
    decoding = {k: np.concatenate([p.decoding[k] for p in parts], axis=1)
                for k in first.decoding}
    return GarbledCircuit(np.concatenate([p.tables for p in parts], axis=2),
                          np.concatenate([p.constants for p in parts], axis=1),
                          decoding, first.tweak_base, first.first_instance, first.scheme,
                          np.concatenate([p.control for p in parts], axis=2))
