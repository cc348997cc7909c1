"""Multipliers: partial-product matrices, constant multiplication by CSD, squaring.

All three lay their (partial-product) bits out by weight and reduce them with
columns.sum_columns over w = min(width, exact product width) bits.  Signed
operands use Baugh-Wooley: each partial product involving exactly one sign bit
is complemented (-p = ~p - 1) and the -1s are folded into one constant.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .builder import Bits, Builder, extend
from .columns import sum_columns


def mul(b: Builder, x: Sequence[int], y: Sequence[int], signed: bool = False,
        width: int | None = None) -> Bits:
    """x * y mod 2**width; width defaults to len(x) + len(y) (the exact product).

    Both operands unsigned, or both two's complement if `signed`.  An exact
    n x m product costs n*m partial-product ANDs plus n*(m-1) adder ANDs; with
    a smaller width only products of weight < width are built.
    """
    n, m = len(x), len(y)
    width = n + m if width is None else width
    w = min(width, n + m)
    cols: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        for j in range(min(m, w - i)):
            p = b.and_(x[i], y[j])
            cols[i + j].append(b.not_(p) if signed and (i == n - 1) != (j == m - 1) else p)
    fix = (1 << n - 1) + (1 << m - 1) - (1 << n + m - 1) if signed and n and m else 0
    return extend(b, sum_columns(b, cols, w, fix), width, signed)


def naf(k: int) -> list[tuple[int, int]]:
    """Canonical signed digits of k: [(shift, +1 | -1)], no two adjacent, fewest nonzero."""
    digits, shift = [], 0
    while k:
        if k & 1:
            d = 1 if k % 4 == 1 else -1
            digits.append((shift, d))
            k -= d
        k >>= 1
        shift += 1
    return digits


def linear_combination(b: Builder, terms: Sequence[tuple[Sequence[int], int]], width: int,
                       constant: int = 0, signed: bool = False) -> Bits:
    """(sum of k * x over terms (x, k) + constant) mod 2**width, Python-int k of any sign.

    Each x is unsigned, or two's complement if `signed`.  Every k is split into
    its canonical signed digits, so k * x = sum of d * (x << s), and all the
    shifted copies go into ONE column sum: summing everything at once is
    cheaper than a multiply per term followed by adds.  Copies of x are never
    sign-extended: a bit of negative weight is complemented and the difference
    goes into the constant (-b * 2**p = ~b * 2**p - 2**p), so each copy costs
    about len(x) ANDs and carries through the constant's high bits are free.
    """
    cols: dict[int, list[int]] = defaultdict(list)
    fix = constant
    for x, k in terms:
        n = len(x)
        for s, d in naf(k):
            for i in range(min(n, width - s)):
                negative = (d < 0) != (signed and i == n - 1)
                cols[s + i].append(b.not_(x[i]) if negative else x[i])
                fix -= (1 << s + i) if negative else 0
    return sum_columns(b, cols, width, fix)


def mul_const(b: Builder, x: Sequence[int], k: int, signed: bool = False,
              width: int | None = None) -> Bits:
    """x * k mod 2**width for a Python int k of any sign (shift-and-add/subtract over
    the canonical signed digits of k; see linear_combination).

    x is unsigned, or two's complement if `signed`.  width defaults to the exact
    product width: len(x) + bitlen(|k|), plus one when k < 0 and x is unsigned.
    """
    if width is None:
        width = len(x) + abs(k).bit_length() + (k < 0 and not signed)
    return linear_combination(b, [(x, k)], width, signed=signed)


def square(b: Builder, x: Sequence[int], signed: bool = False, width: int | None = None) -> Bits:
    """x * x mod 2**width; width defaults to 2 * len(x) (the exact square).

    Symmetry: x_i x_j (i < j) is built once and counted twice by sitting at
    weight 2**(i+j+1); x_i x_i = x_i sits at 2**(2i) with no AND.  That is
    n(n-1)/2 partial products instead of n*n, about half the ANDs of mul(x, x).
    """
    n = len(x)
    width = 2 * n if width is None else width
    w = min(width, 2 * n)
    cols: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        cols[2 * i].append(x[i])
        for j in range(i + 1, n):
            if i + j + 1 < w:
                p = b.and_(x[i], x[j])
                cols[i + j + 1].append(b.not_(p) if signed and j == n - 1 else p)
    fix = (1 << n) - (1 << 2 * n - 1) if signed and n else 0
    return extend(b, sum_columns(b, cols, w, fix), width, False)
