"""Comparators.  Each returns a single wire (1 = true).

Bus comparators extend both operands to the wider width (sign- or
zero-extension per `signed`) and cost one AND per bit.  Signed order is
unsigned order with both sign bits flipped.
"""
from __future__ import annotations

from collections.abc import Sequence

from .adders import fit
from .builder import Bits, Builder
from .logic import and_all, not_bit


def _operands(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool) -> tuple[Bits, Bits]:
    w = max(len(x), len(y))
    xs, ys = fit(b, x, w, signed), fit(b, y, w, signed)
    if signed and w:
        xs[-1], ys[-1] = not_bit(b, xs[-1]), not_bit(b, ys[-1])
    return xs, ys


def _lt_unsigned(b: Builder, x: Bits, y: Bits) -> int:
    """x < y scanning from the LSB: r' = (x_i == y_i) ? r : y_i = r ^ ((x_i^y_i) & (r^y_i))."""
    if not x:
        return b.const(0)
    r = b.and_(not_bit(b, x[0]), y[0])
    for xi, yi in zip(x[1:], y[1:]):
        r = b.xor(r, b.and_(b.xor(xi, yi), b.xor(r, yi)))
    return r


def lt(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """x < y; w ANDs for w = max(len(x), len(y))."""
    return _lt_unsigned(b, *_operands(b, x, y, signed))


def gt(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """x > y; w ANDs."""
    return lt(b, y, x, signed)


def le(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """x <= y; w ANDs."""
    return not_bit(b, lt(b, y, x, signed))


def ge(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """x >= y; w ANDs."""
    return not_bit(b, lt(b, x, y, signed))


def eq(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False) -> int:
    """x == y; w-1 ANDs in a tree of depth ceil(log2 w)."""
    xs, ys = _operands(b, x, y, signed)
    return and_all(b, [b.not_(b.xor(xi, yi)) for xi, yi in zip(xs, ys)])


def _range(width: int, signed: bool) -> tuple[int, int]:
    return (-(1 << width - 1), (1 << width - 1) - 1) if signed and width else (0, (1 << width) - 1)


def lt_const(b: Builder, x: Sequence[int], k: int, signed: bool = False) -> int:
    """x < k for a Python int k.

    Scans from the LSB with r' = ~x_i | r (k_i = 1) or ~x_i & r (k_i = 0), so
    while r is still the constant 0 no gate is needed: the trailing zeros of k
    and its lowest set bit are free, every higher bit costs one AND.  k outside
    the range of x gives a constant.
    """
    lo, hi = _range(len(x), signed)
    if k > hi:
        return b.const(1)
    if k <= lo:
        return b.const(0)
    bits = list(x)
    if signed:  # compare in unsigned order: flip the sign bit of x and of k
        k -= lo
        bits[-1] = b.not_(bits[-1])
    r: int | None = None  # None: the constant 0
    for i, xi in enumerate(bits):
        if (k >> i) & 1:
            r = b.not_(xi) if r is None else b.not_(b.and_(xi, b.not_(r)))
        elif r is not None:
            r = b.and_(b.not_(xi), r)
    assert r is not None  # k > lo, so k has a set bit
    return r


def le_const(b: Builder, x: Sequence[int], k: int, signed: bool = False) -> int:
    """x <= k, as x < k + 1."""
    return lt_const(b, x, k + 1, signed)


def gt_const(b: Builder, x: Sequence[int], k: int, signed: bool = False) -> int:
    """x > k, as ~(x <= k)."""
    return not_bit(b, le_const(b, x, k, signed))


def ge_const(b: Builder, x: Sequence[int], k: int, signed: bool = False) -> int:
    """x >= k, as ~(x < k)."""
    return not_bit(b, lt_const(b, x, k, signed))


def eq_const(b: Builder, x: Sequence[int], k: int, signed: bool = False) -> int:
    """x == k: an AND tree of literals (w-1 ANDs); k out of range gives CONST0."""
    lo, hi = _range(len(x), signed)
    if not lo <= k <= hi:
        return b.const(0)
    return and_all(b, [xi if (k >> i) & 1 else b.not_(xi) for i, xi in enumerate(x)])
