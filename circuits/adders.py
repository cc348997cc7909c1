"""Ripple-carry adders and subtractors: one AND per full adder.

All arithmetic is two's complement mod 2**width.  Operands narrower than
`width` are zero-extended, or sign-extended when `signed`; wider ones are
truncated.  Operand bits that are constant wires cost nothing extra.
"""
from __future__ import annotations

from collections.abc import Sequence

from .builder import Bits, Builder, const_bits, extend, truncate
from .logic import not_bit, parity


def full_add(b: Builder, x: int, y: int, c: int, carry: bool = True) -> tuple[int, int | None]:
    """(sum, carry) of three bits; carry = c ^ ((x^c) & (y^c)), one AND at most.

    Constant operands are specialised (e.g. known 0 gives a half adder, two
    known bits need no AND); carry is None when not requested.
    """
    known = [b.known(w) for w in (x, y, c)]
    free = [w for w, k in zip((x, y, c), known) if k is None]
    ones = sum(k for k in known if k is not None)
    if len(free) == 3:
        xc = b.xor(x, c)
        s = b.xor(xc, y)
        return s, (b.xor(c, b.and_(xc, b.xor(y, c))) if carry else None)
    s = parity(b, free, ones & 1)
    if not carry:
        return s, None
    if len(free) == 2:  # majority with one known bit is AND (0) or OR (1)
        return s, (b.or_(*free) if ones else b.and_(*free))
    if len(free) == 1 and ones == 1:
        return s, free[0]
    return s, b.const(int(ones >= 2))


def fit(b: Builder, x: Sequence[int], width: int, signed: bool) -> Bits:
    """x resized to `width` bits (extend per `signed`, or truncate)."""
    return truncate(x, width) if len(x) >= width else extend(b, x, width, signed)


def ripple(b: Builder, x: Bits, y: Bits, c: int, carry_out: bool) -> Bits:
    """x + y + c for equal-width x, y: len(x) bits, or len(x)+1 with carry_out."""
    out: Bits = []
    for i, (xi, yi) in enumerate(zip(x, y, strict=True)):
        s, c = full_add(b, xi, yi, c, carry_out or i < len(x) - 1)
        out.append(s)
    return out + [c] if carry_out else out


def add(b: Builder, x: Sequence[int], y: Sequence[int], cin: int | None = None,
        width: int | None = None, signed: bool = False) -> Bits:
    """(x + y + cin) mod 2**width; width defaults to max(len(x), len(y)).

    w-1 ANDs for a w-bit add of non-constant operands (the top carry is never built).
    """
    width = max(len(x), len(y)) if width is None else width
    c = b.const(0) if cin is None else cin
    return ripple(b, fit(b, x, width, signed), fit(b, y, width, signed), c, False)


def add_with_carry(b: Builder, x: Sequence[int], y: Sequence[int], cin: int | None = None,
                   width: int | None = None, signed: bool = False) -> Bits:
    """The exact x + y + cin as width+1 bits (unsigned, or two's complement if signed).

    w ANDs: unsigned keeps the carry out, signed adds sign-extended operands.
    """
    width = max(len(x), len(y)) if width is None else width
    if signed:
        return add(b, fit(b, x, width, True), fit(b, y, width, True), cin, width + 1, True)
    c = b.const(0) if cin is None else cin
    return ripple(b, fit(b, x, width, False), fit(b, y, width, False), c, True)


def sub(b: Builder, x: Sequence[int], y: Sequence[int], width: int | None = None,
        signed: bool = False) -> Bits:
    """(x - y) mod 2**width as x + ~y + 1; w-1 ANDs."""
    width = max(len(x), len(y)) if width is None else width
    ny = [not_bit(b, w) for w in fit(b, y, width, signed)]
    return ripple(b, fit(b, x, width, signed), ny, b.const(1), False)


def negate(b: Builder, x: Sequence[int]) -> Bits:
    """-x mod 2**len(x) as ~x + 1 (an increment: len(x)-2 ANDs)."""
    nx_ = [not_bit(b, w) for w in x]
    return ripple(b, nx_, const_bits(b, 0, len(x)), b.const(1), False)


def cond_negate(b: Builder, x: Sequence[int], s: int) -> Bits:
    """(s ? -x : x) mod 2**len(x), as (x ^ s) + s; len(x)-1 ANDs."""
    xs = [b.xor(w, s) for w in x]
    return ripple(b, xs, const_bits(b, 0, len(x)), s, False)


def abs_signed(b: Builder, x: Sequence[int]) -> Bits:
    """|x| for signed x, len(x) bits read as UNSIGNED (so |-2**(w-1)| is exact)."""
    return cond_negate(b, x, x[-1])


def add_const(b: Builder, x: Sequence[int], k: int, width: int | None = None,
              signed: bool = False) -> Bits:
    """(x + k) mod 2**width, width defaults to len(x).

    Bits below the lowest set bit of k are free, as is that bit itself.
    """
    width = len(x) if width is None else width
    return add(b, x, const_bits(b, k, width), width=width, signed=signed)
