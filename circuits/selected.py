"""One column sum for a linear combination whose coefficients depend on a one-hot selector.

selected_sum computes sum_j K[k][j] * x_j + C[k] for the one k whose selector is 1, where a
multiplexer after one sum per k would pay for every sum and then for the multiplexer:

- a signed digit that every k has at the same shift is one ungated copy of x_j; when the
  signs differ, the copy's bits are XORed with the selectors of the negative ks (free);
- the other digits use gated copies X_k = s_k & x_j (one AND per bit and per k, and the last
  k is free: x_j xor the others); a negative gated digit is s_k & ~x_j = X_k xor s_k, its
  offset going into C[k];
- bits that only one k can set (gated bits, the selector bits of C[k] - C[base]) are mutually
  exclusive, so several of them in a column are one XOR, not an adder: in effect each
  column pays for the k with the most digits there, not for the sum over k;
- each coefficient takes its canonical signed digits or its plain binary digits, and one
  k's constant is the known one; the combination is the one a column count model says
  costs fewest ANDs (planned without building gates, then built once).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import product

from .builder import Bits, Builder
from .columns import sum_columns
from .multiply import naf

MAX_PLANS = 256    # digit choices costed per sum (beyond: canonical digits everywhere)


def binary_digits(k: int) -> list[tuple[int, int]]:
    """k's plain binary digits with k's sign: [(shift, +1 | -1)]."""
    sign, m = (1, k) if k >= 0 else (-1, -k)
    return [(s, sign) for s in range(m.bit_length()) if m >> s & 1]


def _split(digits: list[list[tuple[int, int]]]):
    """(common [(shift, signs per k)], remaining digits per k)."""
    rest = [list(d) for d in digits]
    common = []
    for s in sorted(set.intersection(*({t for t, _ in d} for d in rest))):
        signs = []
        for d in rest:
            i = next(i for i, (t, _) in enumerate(d) if t == s)
            signs.append(d.pop(i)[1])
        common.append((s, signs))
    return common, rest


def _layout(terms, digits_per_term, constants, width: int):
    """Column items (None: any k can set it; frozenset({k}): only k), the constants with
    every negative digit's offset, and the gated bits each term needs per k."""
    n_sel = len(constants)
    cols: dict[int, list] = defaultdict(list)
    fix = list(constants)
    gates = []
    for (x, _), digits in zip(terms, digits_per_term):
        common, rest = _split(digits)
        for s, signs in common:
            for i in range(min(len(x), max(0, width - s))):
                cols[s + i].append(None)
                for k in range(n_sel):
                    fix[k] -= (1 << (s + i)) if signs[k] < 0 else 0
        need = {}
        for k in range(n_sel):
            for s, sign in rest[k]:
                for i in range(min(len(x), max(0, width - s))):
                    cols[s + i].append(frozenset([k]))
                    need.setdefault(k, set()).add(i)
                    fix[k] -= (1 << (s + i)) if sign < 0 else 0
        gates.append(need)
    return cols, fix, gates


def _constant(fix: list[int], base: int, width: int) -> tuple[int, dict[int, list]]:
    """C[base] as a known constant plus, per other k, the bits of C[k] - C[base] gated by s_k."""
    extra: dict[int, list] = defaultdict(list)
    for k, f in enumerate(fix):
        d = (f - fix[base]) % (1 << width)
        for p in range(width):
            if k != base and d >> p & 1:
                extra[p].append(frozenset([k]))
    return fix[base] % (1 << width), extra


def _groups(items: list) -> list:
    """Greedy groups of items no two of which one k can set together (None: alone)."""
    groups: list = []
    for tag in items:
        for g in groups if tag is not None else []:
            if g[0] is not None and not g[0] & tag:
                g[0] = g[0] | tag
                g.append(tag)
                break
        else:
            groups.append([tag])
    return groups


def _gate_count(gates, n_sel: int) -> int:
    """ANDs of _gated: per bit, one for each k that needs it, but one fewer if all do."""
    total = 0
    for need in gates:
        for i in set().union(*need.values()) if need else ():
            ks = sum(i in v for v in need.values())
            total += ks - (ks == n_sel)
    return total


def _cost(cols, extra, constant: int, width: int) -> int:
    """ANDs of sum_columns on the merged columns: floor(m / 2) per column of m bits (carries
    included), passing as many carries up, one more for an odd m under a constant 1."""
    ands = carry = 0
    for p in range(width - 1):
        m = len(_groups(cols.get(p, []) + extra.get(p, []))) + carry
        ands += m // 2
        carry = m // 2 + (m % 2 and constant >> p & 1)
    return ands


def _plans(ks_per_term):
    options = [[[naf(k), binary_digits(k)] for k in ks] for ks in ks_per_term]
    n = sum(len(ks) for ks in ks_per_term)
    for picks in product(range(2), repeat=n) if 1 << n <= MAX_PLANS else [(0,) * n]:
        it = iter(picks)
        yield [[opts[next(it)] for opts in term] for term in options]


def selected_sum(b: Builder, sel: Sequence[int], terms: Sequence[tuple[Sequence[int], Sequence[int]]],
                 constants: Sequence[int], width: int) -> Bits:
    """(sum over terms (x, ks) of ks[k] * x + constants[k]) mod 2**width, k the selected index.

    `sel` must be one-hot on every input whose result is used (exactly one wire is 1); each x
    is an unsigned bus; ks and constants hold one Python int per selector.
    """
    n_sel = len(sel)
    if not sel or any(len(ks) != n_sel for _, ks in terms) or len(constants) != n_sel:
        raise ValueError("one coefficient per selector in every term, and one constant each")
    best = None
    for digits in _plans([ks for _, ks in terms]):
        cols, fix, gates = _layout(terms, digits, constants, width)
        for base in range(n_sel):
            constant, extra = _constant(fix, base, width)
            cost = _gate_count(gates, n_sel) + _cost(cols, extra, constant, width)
            if best is None or cost < best[0]:
                best = (cost, digits, base)
    _, digits, base = best
    return _emit(b, sel, terms, digits, constants, base, width)


def _selector(b: Builder, sel: Sequence[int], ks: Sequence[int]) -> int:
    """OR of one-hot selectors = their XOR (free)."""
    w = sel[ks[0]]
    for k in ks[1:]:
        w = b.xor(w, sel[k])
    return w


def _gated(b: Builder, sel, x: Sequence[int], need: dict[int, set[int]]) -> dict[int, dict[int, int]]:
    """X_k[i] = s_k & x_i for the bits each k needs; where every k needs bit i, the last
    one's is x_i xor the others' (one-hot: exactly one copy is x_i, the rest 0)."""
    copies: dict[int, dict[int, int]] = {k: {} for k in need}
    for i in sorted(set().union(*need.values())):
        ks = [k for k in sorted(need) if i in need[k]]
        if len(ks) == len(sel):
            for k in ks[:-1]:
                copies[k][i] = b.and_(sel[k], x[i])
            bit = x[i]
            for k in ks[:-1]:
                bit = b.xor(bit, copies[k][i])
            copies[ks[-1]][i] = bit
        else:
            for k in ks:
                copies[k][i] = b.and_(sel[k], x[i])
    return copies


def _emit(b: Builder, sel, terms, digits_per_term, constants, base: int, width: int) -> Bits:
    n_sel = len(sel)
    cols: dict[int, list] = defaultdict(list)
    fix = list(constants)
    for (x, _), digits in zip(terms, digits_per_term):
        common, rest = _split(digits)
        for s, signs in common:
            neg = [k for k in range(n_sel) if signs[k] < 0]
            flip = _selector(b, sel, neg) if neg and len(neg) < n_sel else None
            for i in range(min(len(x), max(0, width - s))):
                bit = b.not_(x[i]) if len(neg) == n_sel else x[i] if flip is None else b.xor(x[i], flip)
                cols[s + i].append((bit, None))
                for k in neg:
                    fix[k] -= 1 << (s + i)
        need: dict[int, set[int]] = {}
        for k in range(n_sel):
            for s, _ in rest[k]:
                need.setdefault(k, set()).update(range(min(len(x), max(0, width - s))))
        if not need:
            continue
        copies = _gated(b, sel, x, need)
        for k in range(n_sel):
            for s, sign in rest[k]:
                for i in range(min(len(x), max(0, width - s))):
                    bit = copies[k][i] if sign > 0 else b.xor(copies[k][i], sel[k])
                    cols[s + i].append((bit, frozenset([k])))
                    fix[k] -= (1 << (s + i)) if sign < 0 else 0
    constant, extra = _constant(fix, base, width)
    for p, tags in extra.items():
        cols[p] += [(sel[next(iter(t))], t) for t in tags]
    merged = {}
    for p, items in cols.items():
        groups: list[list] = []
        for wire, tag in items:
            for g in groups if tag is not None else []:
                if g[1] is not None and not g[1] & tag:
                    g[0], g[1] = b.xor(g[0], wire), g[1] | tag
                    break
            else:
                groups.append([wire, tag])
        merged[p] = [g[0] for g in groups]
    return sum_columns(b, merged, width, constant)
