"""The segments' polynomials on the rounded magnitude a, as one selected column sum.

Segment k covers T[k-1] < a <= T[k] and computes (see compiler.activation_table)

    S_k = c0 * 2^f + 2^(f_c - 1) + c1 * a + c2 * floor(a^2 / 2^f) [+ c3 * P3 ...],  y = S_k >> f_c

with f = f_a. Three things keep the circuit small while it computes exactly these integers:

- **Offsets.** For a quadratic, each segment may evaluate at b = a - o_k instead of a, for an
  o_k that is a multiple of 2^(f-1) (2^f divides 2 o_k and o_k^2): then
      floor(a^2 / 2^f) = floor(b^2 / 2^f) + (2 o_k b + o_k^2) / 2^f    exactly,
  and S_k = c2 * floor(b^2 / 2^f) + (c1 + c2 * 2 o_k / 2^f) * b + constant. One squarer of
  the narrower b serves every segment (for tanh* in fix<10,8>: 9 bits instead of 10), and the
  new linear coefficient can have fewer signed digits (218 - 86 = 132 = 128 + 4). b is a plus
  a selector-gated constant: where o_k only has bits at or above b's top bit it is XOR gates.
- **One sum for all segments** (circuits.selected): per-segment coefficients and constants
  are selected inside the column sum by the one-hot segment selectors, so no segment is
  summed separately and no multiplexer picks among them.
- **Widths from the range analysis**: b, the squares and the sum are as wide as the values
  over the segments' own intervals need; a partial product of two bits of b that are never
  both 1 there is not built.

Which offsets to use is decided by building the candidates and counting their ANDs. The
block (polynomial_circuit) is inlined, optimised, into the magnitude block of
compiler.synthesis, which simplifies it where saturation does not decide.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from itertools import product

import numpy as np

from veil.circuits.adders import add
from veil.circuits.builder import Builder, shift_right, truncate, zero_extend
from veil.circuits.circuit import Circuit
from veil.circuits.gates import Op
from veil.circuits.multiply import mul, square
from veil.circuits.passes import optimise
from veil.circuits.compare import le_const
from veil.circuits.selected import selected_sum
from veil.circuits.within import le_const_within
from veil.compiler.activation_table import ActivationTable

MAX_CANDIDATES = 16     # offset combinations tried per table (each one is built and counted)
MAX_DOMAIN = 1 << 20    # magnitudes beyond which the squarer gets no bit-pattern analysis


def block_key(t: ActivationTable) -> ActivationTable:
    """t without what the polynomials and the magnitude block do not read (the name, the
    symmetry, the accumulator's width and how far its shift goes past 1), so that the
    activations of every layer with the same format share one cached block."""
    return replace(t, name="", odd=True, acc_bits=0,
                   acc_frac=t.out_format.frac + (1 if t.shift else 0))


def magnitude_width(t: ActivationTable) -> int:
    """Bits of the magnitude the polynomials read: enough for every a <= T[-1]."""
    return max(1, t.thresholds[-1].bit_length())


def intervals(t: ActivationTable) -> list[tuple[int, int]]:
    return [(t.thresholds[k - 1] + 1 if k else 0, hi) for k, hi in enumerate(t.thresholds)]


def offset_step(f: int) -> int:
    """Smallest o > 0 with 2^f | 2o and 2^f | o^2."""
    return 1 << max(f - 1, (f + 1) // 2)


def _candidates(t: ActivationTable) -> list[tuple[int, ...]]:
    if t.degree != 2:
        return [(0,) * len(t.thresholds)]
    step = offset_step(t.out_format.frac)
    per_segment = []
    for lo, _ in intervals(t):
        ks = {0} | {lo >> j << j for j in range(step.bit_length() - 1, lo.bit_length())}
        per_segment.append(sorted(ks, key=lambda o: (-o.bit_length(), bin(o).count("1"), o)))
    while np.prod([len(c) for c in per_segment]) > 64 * MAX_CANDIDATES:
        max(per_segment, key=len).pop()       # the largest offsets stay (they narrow b most)
    combos = sorted(product(*per_segment),
                    key=lambda c: max(hi - o for (_, hi), o in zip(intervals(t), c)))
    zero = (0,) * len(t.thresholds)
    return [zero] + [c for c in combos if c != zero][:MAX_CANDIDATES - 1]


def _domain(t: ActivationTable, offsets) -> np.ndarray:
    return np.concatenate([np.arange(lo - o, hi - o + 1, dtype=np.int64)
                           for (lo, hi), o in zip(intervals(t), offsets)])


def _never(values: np.ndarray, width: int):
    """never(S): no value has all the bits in S set (the squarer's promise, see square);
    None past MAX_DOMAIN values, where the analysis would cost more than it saves."""
    if len(values) > MAX_DOMAIN:
        return None
    bits = [np.packbits(values >> i & 1) for i in range(width)]

    @lru_cache(maxsize=None)
    def never(s: frozenset[int]) -> bool:
        return not np.bitwise_and.reduce([bits[i] for i in s]).any()
    return never


def _powers(b: Builder, t: ActivationTable, x: list[int], values: np.ndarray) -> list[list[int]]:
    """[None, P1 = x, P2, ...]: P2 = floor(x^2 / 2^f) by the squarer, P3.. by multipliers."""
    f = t.out_format.frac
    powers: list = [None, x]
    prev_vals = values
    for j in range(2, t.degree + 1):
        full = len(powers[-1]) + len(x)
        prod = square(b, x, width=full, never=_never(values, len(x))) if j == 2 else \
            mul(b, powers[-1], x, width=full)
        prev_vals = (prev_vals * values) >> f
        width = max(1, int(prev_vals.max(initial=0)).bit_length())
        high = shift_right(prod, f, signed=False)     # empty when the product is below 2^f
        powers.append(zero_extend(b, high, width) if len(high) < width else truncate(high, width))
    return powers


def _terms(t: ActivationTable, offsets) -> tuple[list[list[int]], list[int]]:
    """Per power j >= 1, the coefficient of each segment; and each segment's constant."""
    f, deg = t.out_format.frac, t.degree
    rounding = 1 << (t.coeff_frac - 1) if t.coeff_frac else 0
    ks = [[0] * len(offsets) for _ in range(deg + 1)]
    consts = []
    for k, (c, o) in enumerate(zip(t.coeffs, offsets)):
        c = list(c) + [0] * (deg + 1 - len(c))
        for j in range(1, deg + 1):
            ks[j][k] = c[j]
        const = (c[0] << f) + rounding
        if o:   # degree 2 only (see _candidates)
            ks[1][k] += (c[2] * 2 * o) >> f
            const += c[1] * o + ((c[2] * o * o) >> f)
        consts.append(const)
    return ks[1:], consts


def y_range(t: ActivationTable) -> tuple[int, int]:
    return t.ranges()["y"]


def _width(lo: int, hi: int) -> int:
    """Bits of [lo, hi]: unsigned if lo >= 0, else two's complement (hi may be negative)."""
    if lo >= 0:
        return max(1, hi.bit_length())
    return max((-lo - 1).bit_length(), max(hi, 0).bit_length()) + 1


def segment_selectors(b: Builder, t: ActivationTable, a: list[int]) -> list[int]:
    """One-hot: s_k = [T[k-1] < a <= T[k]] (for a <= T[-1]); [a <= T[k]] is monotone in k.
    Each test only has to hold for a <= T[-1] (saturation decides above), which lets the
    comparators skip gates (circuits.within); past MAX_DOMAIN magnitudes, exact comparators."""
    if t.thresholds[-1] < MAX_DOMAIN:
        care = np.arange(t.thresholds[-1] + 1, dtype=np.int64)
        tests = [le_const_within(b, a, th, care) for th in t.thresholds[:-1]]
    else:
        tests = [le_const(b, a, th, signed=False) for th in t.thresholds[:-1]]
    if not tests:
        return [b.const(1)]
    return [tests[0]] + [b.xor(tests[k], tests[k - 1]) for k in range(1, len(tests))] + \
        [b.not_(tests[-1])]


def build_polynomial(b: Builder, t: ActivationTable, a: list[int], sel: list[int],
                     offsets) -> list[int]:
    """y for a <= T[-1] (anything above), _width(y_range) bits."""
    values = _domain(t, offsets)
    w_b = max(1, int(values.max(initial=0)).bit_length())
    a = zero_extend(b, a, w_b) if len(a) < w_b else a
    if any(offsets):
        minus: list[int | None] = [None] * w_b      # -o_k mod 2^w_b, selected (free)
        for k, o in enumerate(offsets):
            for i in range(w_b):
                if (-o) >> i & 1:
                    minus[i] = sel[k] if minus[i] is None else b.xor(minus[i], sel[k])
        x = add(b, a, [b.const(0) if w is None else w for w in minus], width=w_b)
    else:
        x = truncate(a, w_b)
    ks, consts = _terms(t, offsets)
    powers = _powers(b, t, x, values)
    lo, hi = y_range(t)
    width = t.coeff_frac + _width(lo, hi)
    s = selected_sum(b, sel, [(powers[j + 1], ks[j]) for j in range(len(ks))], consts, width)
    return s[t.coeff_frac:]


@lru_cache(maxsize=64)
def choose_offsets(t: ActivationTable) -> tuple[int, ...]:
    """The candidate offsets whose polynomial block has the fewest ANDs."""
    best, best_ands = None, None
    for offsets in _candidates(t):
        b = Builder()
        a = b.input("a", magnitude_width(t))
        build_polynomial(b, t, a, segment_selectors(b, t, a), offsets)
        ands = b.count(Op.AND)
        if best_ands is None or ands < best_ands:
            best, best_ands = offsets, ands
    return best


@lru_cache(maxsize=64)
def polynomial_circuit(t: ActivationTable) -> Circuit:
    """Input bus 'a' (magnitude_width bits), output bus 'y': the segment tests and the
    polynomials with the chosen offsets, right for every a <= T[-1] (anything above),
    optimised. Read-only: callers inline it."""
    b = Builder()
    a = b.input("a", magnitude_width(t))
    b.output("y", build_polynomial(b, t, a, segment_selectors(b, t, a), choose_offsets(t)))
    return optimise(b.build())
