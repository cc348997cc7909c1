"""Preallocated scratch memory for one block of instances, and the operand gather.

Labels are handled as (..., 2) little-endian uint64 words (one XOR per 8 bytes). Every step
writes into views of these buffers, so the per-step loop allocates nothing; sizes come from the
plan's widest steps.
"""
from __future__ import annotations

import math

import numpy as np

from .aes_hash import TweakHash
from .gc_plan import Plan, Selector
from .gc_tweaks import fill_base
from .labels import WORD


class Scratch:
    """Buffers for blocks of up to `block` instances; `hashes_per_and` is 4 for the garbler
    (both labels of both inputs) and 2 for the evaluator (the active labels). The garbler
    passes R, kept tiled as `r` (block, 2) so XORs with it broadcast over whole rows."""

    def __init__(self, plan: Plan, block: int, hashes_per_and: int, tweak_base: int,
                 R: np.ndarray | None = None) -> None:
        ga, gl = plan.max_and, max(plan.max_and, plan.max_linear)
        self.block = block
        self._w = np.empty(plan.n_wires * block * 2, WORD)
        self._bufs = {
            "x": np.empty(hashes_per_and * ga * block * 2, WORD),  # labels to hash
            "t": np.empty(2 * ga * block * 2, WORD),               # tweaks
            "m": np.empty(2 * ga * block * 2, WORD),               # colour-bit masks
            "u": np.empty(ga * block * 2, WORD),
            "v": np.empty(ga * block * 2, WORD),
            "a": np.empty(gl * block * 2, WORD),                   # gathered operands
            "b": np.empty(gl * block * 2, WORD),
        }
        fill_base(self._bufs["t"], tweak_base)
        self.hash = TweakHash(hashes_per_and * ga * block)
        self.r = None if R is None else np.tile(R, (block, 1))

    def wires(self, n: int) -> np.ndarray:
        """The (n_wires, n, 2) wire-label table for a block of n <= block instances."""
        return self._w[: self._w.size // self.block * n].reshape(-1, n, 2)

    def view(self, name: str, *shape: int) -> np.ndarray:
        buf = self._bufs[name]
        return buf[: math.prod(shape)].reshape(shape)


def gather(W: np.ndarray, sel: Selector, scratch: Scratch, name: str) -> np.ndarray:
    """W[sel]: a view for slices, else np.take into scratch (mode='clip' avoids the hidden
    output buffering of mode='raise'; the plan already checked every index)."""
    if isinstance(sel, slice):
        return W[sel]
    out = scratch.view(name, len(sel), *W.shape[1:])
    return np.take(W, sel, axis=0, out=out, mode="clip")
