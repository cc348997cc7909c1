"""Multiplexers."""
from __future__ import annotations

from collections.abc import Sequence

from .builder import Bits, Builder
from .logic import not_bit


def mux(b: Builder, s: int, x0: Sequence[int], x1: Sequence[int]) -> Bits:
    """s ? x1 : x0 bitwise, as x0 ^ (s & (x0 ^ x1)): one AND per bit.

    x0 and x1 must have equal widths (extend them first).
    """
    if len(x0) != len(x1):
        raise ValueError(f"mux operands differ in width: {len(x0)} vs {len(x1)}")
    return [b.xor(a, b.and_(s, b.xor(a, c))) for a, c in zip(x0, x1)]


def mux_const(b: Builder, s: int, x: Sequence[int], k: int) -> Bits:
    """s ? k : x for a Python int k (two's complement over len(x) bits): x & ~s where k has a
    0, x | s where it has a 1, so at most one AND per bit and none where x is constant."""
    out = []
    for i, w in enumerate(x):
        bit, known = (k >> i) & 1, b.known(w)
        if known is not None:
            out.append(b.const(bit) if known == bit else (s if bit else not_bit(b, s)))
        else:
            out.append(b.or_(w, s) if bit else b.and_(w, not_bit(b, s)))
    return out
