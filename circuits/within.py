"""A comparator with a constant that only has to be right on a given set of values.

compare.le_const is exact for every input, one AND per bit above the lowest set bit of
k + 1. Inside the activation circuit the segment tests [a <= T_k] only matter for the
magnitudes a <= T_last the polynomials serve (saturation decides the rest), and on such a
set of values a comparator can skip gates: built from the top bit down,

    [x <= k] = ~x_i | [x_low <= k_low]     where k has a 1 at bit i,
    [x <= k] = ~x_i & [x_low <= k_low]     where k has a 0,

the lower bits are only read where x_i does not decide alone, and an AND or OR costs nothing
when on the set one operand implies the other, or (OR) they are never both 1 (an XOR), or
(AND) one of them is always 1 (p xor q xor 1). The value of every wire built here is tracked
over the set, so each of those checks is exact.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .builder import Builder
from .compare import le_const
from .gates import Op


def le_const_within(b: Builder, x: Sequence[int], k: int, values: np.ndarray) -> int:
    """A wire equal to [x <= k] (x unsigned) whenever x is one of `values`; anything else
    on other inputs. Built top-down as above, or as compare.le_const where that has fewer
    ANDs (its lowest bits are free where k + 1 ends in zeros)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and (values.min() < 0 or int(values.max()).bit_length() > len(x)):
        raise ValueError(f"values do not fit an unsigned {len(x)}-bit bus")
    trial = [Builder(), Builder()]
    _top_down(trial[0], trial[0].input("x", len(x)), k, values)
    le_const(trial[1], trial[1].input("x", len(x)), k)
    if trial[0].count(Op.AND) < trial[1].count(Op.AND):
        return _top_down(b, x, k, values)
    return le_const(b, x, k)


def _top_down(b: Builder, x: Sequence[int], k: int, values: np.ndarray) -> int:
    bit = [((values >> i) & 1).astype(bool) for i in range(len(x))]
    Wire = tuple[int, np.ndarray]       # a wire and its value on every one of `values`

    def go(i: int, care: np.ndarray) -> Wire:
        """[x mod 2^(i+1) <= k mod 2^(i+1)] on the values where `care` holds."""
        mask = (1 << i + 1) - 1
        want = (values & mask) <= (k & mask)
        if not want[care].any():
            return b.const(0), np.zeros(len(values), bool)
        if i < 0 or want[care].all():
            return b.const(1), np.ones(len(values), bool)
        xi = bit[i]
        nx = (b.not_(x[i]), ~xi)
        if k >> i & 1:          # x_i = 0 is below k: ~x_i | [low <= k_low], low read where x_i = 1
            return _or(b, nx, go(i - 1, care & xi), care)
        return _and(b, nx, go(i - 1, care & ~xi), care)   # x_i = 1 is above k

    return go(len(x) - 1, np.ones(len(values), dtype=bool))[0]


def _and(b: Builder, p, q, care: np.ndarray):
    """p & q on `care`: free when one implies the other there or one of them is always 1."""
    (pw, pv), (qw, qv) = p, q
    if not (pv & ~qv & care).any():
        return p
    if not (qv & ~pv & care).any():
        return q
    if not (~pv & ~qv & care).any():            # p | q: p & q = p xor q xor 1
        return b.not_(b.xor(pw, qw)), ~(pv ^ qv)
    return b.and_(pw, qw), pv & qv


def _or(b: Builder, p, q, care: np.ndarray):
    """p | q on `care`: an XOR when they are never both 1 there, free when one implies the
    other."""
    (pw, pv), (qw, qv) = p, q
    if not (pv & ~qv & care).any():
        return q
    if not (qv & ~pv & care).any():
        return p
    if not (pv & qv & care).any():
        return b.xor(pw, qw), pv ^ qv
    # ~(~p & ~q): after folding, ~x_i | ~x_j is x_i & x_j, which a squarer may have built
    return b.not_(b.and_(b.not_(pw), b.not_(qw))), pv | qv
