"""Multiplexers."""
from __future__ import annotations

from collections.abc import Sequence

from .builder import Bits, Builder


def mux(b: Builder, s: int, x0: Sequence[int], x1: Sequence[int]) -> Bits:
    """s ? x1 : x0 bitwise, as x0 ^ (s & (x0 ^ x1)): one AND per bit.

    x0 and x1 must have equal widths (extend them first).
    """
    if len(x0) != len(x1):
        raise ValueError(f"mux operands differ in width: {len(x0)} vs {len(x1)}")
    return [b.xor(a, b.and_(s, b.xor(a, c))) for a, c in zip(x0, x1)]
