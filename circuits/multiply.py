"""Multipliers: partial-product matrices, constant multiplication by CSD, squaring.

All three lay their (partial-product) bits out by weight and reduce them with
columns.sum_columns over w = min(width, exact product width) bits.  Signed
operands use Baugh-Wooley: each partial product involving exactly one sign bit
is complemented (-p = ~p - 1) and the -1s are folded into one constant.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

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


def square(b: Builder, x: Sequence[int], signed: bool = False, width: int | None = None,
           never: Callable[[frozenset[int]], bool] | None = None) -> Bits:
    """x * x mod 2**width; width defaults to 2 * len(x) (the exact square).

    Symmetry: x_i x_j (i < j) is built once and counted twice by sitting at
    weight 2**(i+j+1); x_i x_i = x_i sits at 2**(2i) with no AND.  That is
    n(n-1)/2 partial products instead of n*n, about half the ANDs of mul(x, x).
    The product p = x_i x_{i+1} shares its column with x_{i+1}, and their sum is
    (x_{i+1} xor p) + 2p: one bit fewer there and one more in the next column, which
    saves an adder where it leaves a column with an odd count; each such pair is
    rearranged or not, whichever the column count model (_adders) says is cheaper.

    `never(S)` (unsigned only) is the caller's promise that the bits of x indexed by S are
    never all 1 on the inputs it will feed (a range analysis says so). A product whose pair
    is ruled out is 0 and not built; products in one column that can never be 1 together are
    one XOR, not an adder. The result is then exact only on inputs that keep the promise.
    """
    n = len(x)
    width = 2 * n if width is None else width
    w = min(width, 2 * n)
    if signed and never is not None:
        raise ValueError("square: `never` is for unsigned operands")
    ruled_out = never or (lambda s: False)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)
             if i + j + 1 < w and not ruled_out(frozenset([i, j]))]
    foldable = [i for i, j in pairs if j == i + 1 and not (signed and j == n - 1)]
    fix = (1 << n) - (1 << 2 * n - 1) if signed and n else 0
    fold = _best_folds(n, w, pairs, foldable, ruled_out, signed, fix % (1 << w))
    cols: dict[int, list[tuple[int, frozenset[int] | None]]] = defaultdict(list)
    diagonal = {2 * i: (x[i], frozenset([i])) for i in range(n)}
    for i, j in pairs:
        p = b.and_(x[i], x[j])
        if signed and j == n - 1:
            cols[i + j + 1].append((b.not_(p), None))
        elif j == i + 1 and i in fold:
            diagonal[2 * j] = (b.xor(diagonal[2 * j][0], p), None)
            cols[2 * j + 1].append((p, frozenset([i, j])))
        else:
            cols[i + j + 1].append((p, frozenset([i, j])))
    for p, item in diagonal.items():
        cols[p].append(item)
    merged = {p: _exclusive(b, items, ruled_out) for p, items in cols.items()}
    return extend(b, sum_columns(b, merged, w, fix), width, False)


def _groups(monos, ruled_out) -> list[list | None]:
    """Greedy groups of monomials no two of which are ever both 1 (None: not a monomial)."""
    groups: list[list | None] = []
    for mono in monos:
        for g in groups if mono is not None else []:
            if g is not None and all(ruled_out(mono | m) for m in g):
                g.append(mono)
                break
        else:
            groups.append(None if mono is None else [mono])
    return groups


def _exclusive(b: Builder, items, ruled_out) -> Bits:
    """One XOR for each group of products (monomials) no two of which are ever both 1,
    grouped as _groups does."""
    groups: list[list] = []
    for wire, mono in items:
        for g in groups if mono is not None else []:
            if g[1] is not None and all(ruled_out(mono | m) for m in g[1]):
                g[0] = b.xor(g[0], wire)
                g[1].append(mono)
                break
        else:
            groups.append([wire, None if mono is None else [mono]])
    return [g[0] for g in groups]


def _adders(n: int, w: int, pairs, fold: set[int], ruled_out, signed: bool, fix: int) -> int:
    """ANDs sum_columns will spend on the square's columns (no gates built): a column of m
    bits (carries in included) costs floor(m / 2) and passes as many carries up, one more
    when m is odd and the constant has a 1 there (u + 1 = ~u + 2u)."""
    cols: dict[int, list] = defaultdict(list)
    for i in range(n):
        cols[2 * i].append(None if i - 1 in fold else frozenset([i]))
    for i, j in pairs:
        folded = j == i + 1 and i in fold
        mono = None if signed and j == n - 1 else frozenset([i, j])
        cols[2 * j + 1 if folded else i + j + 1].append(mono)
    ands = carry = 0
    for p in range(w - 1):
        m = len(_groups(cols.get(p, []), ruled_out)) + carry
        ands += m // 2
        carry = m // 2 + (m % 2 and fix >> p & 1)
    return ands


def _best_folds(n: int, w: int, pairs, foldable: list[int], ruled_out, signed: bool,
                fix: int) -> set[int]:
    """Which x_i x_{i+1} to fold onto the diagonal: one pass of single flips from all."""
    best = set(foldable)
    cost = _adders(n, w, pairs, best, ruled_out, signed, fix)
    for i in foldable:
        trial = best ^ {i}
        c = _adders(n, w, pairs, trial, ruled_out, signed, fix)
        if c < cost:
            best, cost = trial, c
    return best
