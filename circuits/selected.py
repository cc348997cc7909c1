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
- each coefficient takes its canonical signed digits or its plain binary digits, whichever
  shares more shifts with the other ks.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .builder import Bits, Builder
from .columns import sum_columns
from .multiply import naf

Item = tuple[int, frozenset[int] | None]   # a wire and the ks that can set it (None: any)


def binary_digits(k: int) -> list[tuple[int, int]]:
    """k's plain binary digits with k's sign: [(shift, +1 | -1)]."""
    sign, m = (1, k) if k >= 0 else (-1, -k)
    return [(s, sign) for s in range(m.bit_length()) if m >> s & 1]


def _choose_digits(ks: Sequence[int]) -> list[list[tuple[int, int]]]:
    """Per k, NAF or binary digits: most shifts common to every k, then fewest digits."""
    options = [[naf(k), binary_digits(k)] for k in ks]
    best, best_key = None, None
    for pick in range(1 << len(ks)) if len(ks) <= 6 else [0]:
        digits = [options[i][pick >> i & 1] for i in range(len(ks))]
        shifts = [{s for s, _ in d} for d in digits]
        common = set.intersection(*shifts) if shifts else set()
        key = (-len(common), max((len(s - common) for s in shifts), default=0),
               sum(len(d) for d in digits))
        if best_key is None or key < best_key:
            best, best_key = digits, key
    return best


def _selector(b: Builder, sel: Sequence[int], ks: Sequence[int]) -> int:
    """OR of one-hot selectors = their XOR (free)."""
    w = sel[ks[0]]
    for k in ks[1:]:
        w = b.xor(w, sel[k])
    return w


def _gated(b: Builder, sel: Sequence[int], x: Sequence[int], need: list[int]) -> dict[int, Bits]:
    out = {k: [b.and_(sel[k], w) for w in x] for k in need[:-1]}
    if len(need) == len(sel):       # the last k: x minus every other k's copy
        last = list(x)
        for bits in out.values():
            last = [b.xor(u, v) for u, v in zip(last, bits)]
        out[need[-1]] = last
    else:
        out[need[-1]] = [b.and_(sel[need[-1]], w) for w in x]
    return out


def _term(b: Builder, sel, x: Sequence[int], ks: Sequence[int], width: int,
          cols: dict[int, list[Item]], fix: list[int]) -> None:
    n_sel = len(sel)
    digits = [list(d) for d in _choose_digits(ks)]
    common = set.intersection(*({s for s, _ in d} for d in digits))
    for s in sorted(common):
        signs = []
        for d in digits:
            i = next(i for i, (t, _) in enumerate(d) if t == s)
            signs.append(d.pop(i)[1])
        neg = [k for k in range(n_sel) if signs[k] < 0]
        flip = None if not neg or len(neg) == n_sel else _selector(b, sel, neg)
        for i, w in enumerate(x[:max(0, width - s)]):
            bit = b.not_(w) if len(neg) == n_sel else (b.xor(w, flip) if flip is not None else w)
            cols[s + i].append((bit, None))
            for k in neg:
                fix[k] -= 1 << (s + i)
    need = [k for k in range(n_sel) if digits[k]]
    if not need:
        return
    copies = _gated(b, sel, x, sorted(need, key=lambda k: len(digits[k])))
    for k in need:
        for s, sign in digits[k]:
            for i, w in enumerate(copies[k][:max(0, width - s)]):
                cols[s + i].append((w if sign > 0 else b.xor(w, sel[k]), frozenset([k])))
                if sign < 0:
                    fix[k] -= 1 << (s + i)


def _merge(b: Builder, items: list[Item]) -> Bits:
    """Greedily XOR together bits that no single k can set at the same time."""
    free: Bits = []
    groups: list[list] = []
    for w, ks in items:
        if ks is None:
            free.append(w)
            continue
        for g in groups:
            if not g[1] & ks:
                g[0], g[1] = b.xor(g[0], w), g[1] | ks
                break
        else:
            groups.append([w, ks])
    return free + [g[0] for g in groups]


def _constant_items(sel, fix: list[int], base: int, width: int) -> tuple[int, dict[int, list]]:
    """C[base] as a known constant plus, per other k, the bits of C[k] - C[base] gated by s_k."""
    m = 1 << width
    extra: dict[int, list] = defaultdict(list)
    for k in range(len(sel)):
        if k != base:
            d = (fix[k] - fix[base]) % m
            for p in range(width):
                if d >> p & 1:
                    extra[p].append((sel[k], frozenset([k])))
    return fix[base] % m, extra


def _count(cols: dict[int, list[Item]], extra: dict[int, list]) -> int:
    """Bits left after merging (no gates built): the cost the base constant is chosen by."""
    total = 0
    for p in set(cols) | set(extra):
        items = cols.get(p, []) + extra.get(p, [])
        groups: list[frozenset] = []
        for _, ks in items:
            if ks is None:
                total += 1
                continue
            for i, g in enumerate(groups):
                if not g & ks:
                    groups[i] = g | ks
                    break
            else:
                groups.append(ks)
        total += len(groups)
    return total


def selected_sum(b: Builder, sel: Sequence[int], terms: Sequence[tuple[Sequence[int], Sequence[int]]],
                 constants: Sequence[int], width: int) -> Bits:
    """(sum over terms (x, ks) of ks[k] * x + constants[k]) mod 2**width, k the selected index.

    `sel` must be one-hot on every input whose result is used (exactly one wire is 1); each x
    is an unsigned bus; ks and constants hold one Python int per selector.
    """
    if not sel or any(len(ks) != len(sel) for _, ks in terms) or len(constants) != len(sel):
        raise ValueError("one coefficient per selector in every term, and one constant each")
    cols: dict[int, list[Item]] = defaultdict(list)
    fix = list(constants)
    for x, ks in terms:
        _term(b, sel, x, ks, width, cols, fix)
    options = [_constant_items(sel, fix, base, width) for base in range(len(sel))]
    constant, extra = min(options, key=lambda o: _count(cols, o[1]))
    merged = {p: _merge(b, cols.get(p, []) + extra.get(p, [])) for p in set(cols) | set(extra)}
    return sum_columns(b, merged, width, constant)
