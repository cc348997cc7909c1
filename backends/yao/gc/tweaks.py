"""Tweak layout: one 128-bit tweak per hashed label pair, unique per (gate, instance, garbling).

    i = tweak_base * 2**64  +  per_gate * (instance * and_count + gate_index)  +  slot

as the 16 little-endian bytes of that integer, i.e. uint64 word 1 = tweak_base (64 bits, chosen
by the caller, distinct per garbling session/circuit) and word 0 = the counter. `instance` is
the global instance number (first_instance + position in the chunk), so chunks of one session
never collide. per_gate is the scheme's number of hashed pairs per AND (schemes.py): half-gates
2, slot 0 for the generator half-gate (hashes of the a-labels) and 1 for the evaluator
half-gate (b-labels); three-halves 3, slots 0, 1, 2 for the a-, b- and (a xor b)-labels. A
garbling uses one scheme, so its tweaks never meet another layout's. The range check keeps the
counter below 2**64.
"""
from __future__ import annotations

import numpy as np

from veil.backends.yao.gc.labels import WORD

_U64 = 1 << 64


def check_range(tweak_base: int, first_instance: int, n_instances: int, and_count: int,
                per_gate: int = 2) -> None:
    if not 0 <= tweak_base < _U64:
        raise ValueError("tweak_base must be a 64-bit unsigned integer")
    if first_instance < 0 or n_instances < 1:
        raise ValueError("need first_instance >= 0 and n_instances >= 1")
    if per_gate * (first_instance + n_instances) * and_count > _U64:
        raise ValueError("instance numbers overflow the 64-bit tweak counter")


def instance_counters(first_instance: int, n: int, and_count: int,
                      per_gate: int = 2) -> np.ndarray:
    """(n,) word-0 bases per_gate * instance * and_count of instances first .. first + n - 1."""
    return (np.arange(n, dtype=WORD) + np.uint64(first_instance)) * np.uint64(per_gate * and_count)


def gate_offsets(gate_index: np.ndarray, per_gate: int = 2) -> np.ndarray:
    """(per_gate * g,) word-0 offsets: per_gate * gate + 0 for the g gates, then + 1 for the
    g gates, ...: an AND step hashes slot by slot. Its tweaks are word 0 = counters[k] +
    offsets[r] (no carry into word 1, by check_range) and word 1 = tweak_base (fill_base)."""
    g = np.asarray(gate_index, dtype=WORD) * np.uint64(per_gate)
    return np.concatenate([g + np.uint64(s) for s in range(per_gate)])


def fill_base(tweaks: np.ndarray, tweak_base: int) -> None:
    """Set word 1 of a flat tweak buffer (pairs of words) once; steps only write word 0."""
    tweaks.reshape(-1, 2)[:, 1] = tweak_base


def tweak(tweak_base: int, instance: int, and_count: int, gate: int, slot: int,
          per_gate: int = 2) -> int:
    """The tweak as a Python integer (documentation and tests)."""
    return (tweak_base << 64) + per_gate * (instance * and_count + gate) + slot
