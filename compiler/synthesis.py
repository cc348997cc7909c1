"""Synthesis of a piecewise-polynomial activation into a boolean circuit.

The circuit computes exactly `compiler.activation_table.ActivationTable` (see its docstring
for the integer semantics). Where the ANDs go (docs/circuits.md has the counts):

- magnitude: the ones' complement (X xor s) costs XOR gates only. With
  m = floor(ones / 2^(shift-1)), the rounded magnitude is a = (m + 1) >> 1, so saturation
  a > T[-1] is m >= 2 T[-1] + 1. Only m's low bits (a's, and the rounding bit) go further;
  whether any higher bit is set is an OR tree (`above`);
- the magnitude block (magnitude_circuit, inlined): from those low bits and `above`, the
  increment, the saturation comparator, the segment tests and the polynomials
  (compiler.piecewise: one squarer of b = a - o_k, one selected column sum) and the
  saturation multiplexer (one AND per bit of y). Its inputs are few (2^12 for tanh* in
  fix<10,8>), so it is simplified on every one of them: where saturation decides, the
  polynomials' gates are not observed, and an AND that equals the XOR of a few earlier
  wires wherever it is observed becomes that XOR (circuits.care, circuits.observe);
- sign: odd symmetry needs t = (y xor s) + s; in the masked circuit the "+ s" rides as the
  carry-in of the final "+ r_lo" addition and costs nothing;
- the mask: only r_u's low k bits are added in the circuit (k ANDs); the high bits are
  r_hi + carry - sign, which the garbler's translation table gives the evaluator.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from veil.circuits.adders import add_const, add_with_carry, cond_negate, sub
from veil.circuits.builder import Builder, extend, zero_extend
from veil.circuits.care import sweep_on_care
from veil.circuits.circuit import Circuit
from veil.circuits.compare import ge_const, gt_const
from veil.circuits.logic import or_all
from veil.circuits.mux import mux_const
from veil.circuits.observe import simplify_observed
from veil.circuits.passes import optimise
from veil.compiler.activation_table import ActivationTable
from veil.compiler.piecewise import block_key, magnitude_width, polynomial_circuit, y_range


MAX_INPUT_BITS = 12     # the magnitude block is simplified on all its inputs up to 2^12 of them


def signed_width(lo: int, hi: int) -> int:
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def low_bits(t: ActivationTable) -> int:
    """How many low bits of m the magnitude block reads: a's bits, and the rounding bit."""
    return magnitude_width(t) + (1 if t.shift else 0)


def _sign_and_magnitude(b: Builder, t: ActivationTable, x: list[int]) -> tuple[int, list[int], int]:
    """s = [x < 0]; m = ones >> (shift - 1) with ones = x xor -s (free), or ones when shift is
    0; m's low_bits(t) bits and `above`, whether any bit of m above them is set."""
    s = x[-1]
    ones = [b.xor(x[i], s) for i in range(t.acc_bits - 1)]
    m = ones[t.shift - 1:] if t.shift else ones
    n = low_bits(t)
    low = m[:n] if len(m) >= n else zero_extend(b, m, n)
    return s, low, or_all(b, m[n:])


def value_signed(t: ActivationTable) -> bool:
    """Whether the magnitude block's y is read as two's complement."""
    return min(y_range(t)[0], t.saturation) < 0


@lru_cache(maxsize=64)
def magnitude_circuit(t: ActivationTable) -> Circuit:
    """Inputs 'm' (low_bits(t)) and 'above' (1 bit), output 'y': t.magnitude_values(a) for
    the magnitude they stand for, a = (m + 1) >> 1 (shift > 0) or m, saturated when `above`
    or a > T[-1]. Exact on every input; optimised, then simplified on all of them (where
    saturation decides, the polynomials' gates are not observed: circuits.observe).
    Read-only: callers inline it."""
    b = Builder()
    m, above = b.input("m", low_bits(t)), b.input("above", 1)[0]
    last = t.thresholds[-1]
    if t.shift:     # a = (m + 1) >> 1 > T  <=>  m >= 2 T + 1
        sat, a = ge_const(b, m, 2 * last + 1), add_const(b, m, 1)[1:]
    else:
        sat, a = gt_const(b, m, last), m
    sat = b.or_(sat, above)
    y = b.inline(polynomial_circuit(block_key(t)), {"a": a})["y"]
    lo, hi = min(y_range(t)[0], t.saturation), max(y_range(t)[1], t.saturation)
    width = signed_width(lo, hi) if value_signed(t) else max(1, hi.bit_length())
    y = extend(b, y, width, y_range(t)[0] < 0)
    b.output("y", mux_const(b, sat, y, t.saturation))
    c = optimise(b.build())
    if low_bits(t) + 1 <= MAX_INPUT_BITS:
        every = np.arange(1 << low_bits(t) + 1, dtype=np.int64)
        care = {"m": every & ((1 << low_bits(t)) - 1), "above": every >> low_bits(t)}
        c = simplify_observed(optimise(sweep_on_care(c, care)), care, rounds=2)
    return c


def _value(b: Builder, t: ActivationTable, x: list[int]) -> tuple[int, list[int]]:
    """s and y = t.magnitude_values(a) for the accumulator bus x."""
    s, low, above = _sign_and_magnitude(b, t, x)
    return s, b.inline(magnitude_circuit(block_key(t)), {"m": low, "above": [above]})["y"]


def activation_circuit(t: ActivationTable) -> Circuit:
    """The bare activation: input bus 'x' (the accumulator), output bus 't' (activation format)."""
    b = Builder()
    x = b.input("x", t.acc_bits)
    s, y = _value(b, t, x)
    y = extend(b, y, t.out_format.total, value_signed(t))
    b.output("t", cond_negate(b, y, s) if t.odd else y)
    return b.build()


def low_width(t: ActivationTable) -> int:
    """k: the width of the two's-complement bus the masked circuit adds r_lo to (y with room
    for its sign); the circuit computes only the k low bits of y_masked and their carry."""
    lo, hi = min(y_range(t)[0], t.saturation), max(y_range(t)[1], t.saturation)
    return signed_width(lo, hi) if value_signed(t) else max(1, hi.bit_length()) + 1


def high_width(t: ActivationTable, kappa: int) -> int:
    """The bits of y_masked above the low k: the translation table's values."""
    return t.out_format.total + kappa + 1 - low_width(t)


def split_mask(t: ActivationTable, r_u: int) -> tuple[int, int]:
    """r_u = r_hi * 2^k + r_lo: (r_hi, r_lo)."""
    k = low_width(t)
    return r_u >> k, r_u & ((1 << k) - 1)


def high_part(t: ActivationTable, kappa: int, r_hi: int, carry: int, sign: int) -> int:
    """The high bits of y_masked from r_hi and the circuit's hidden wires:
    r_hi + carry - sign mod 2^high_width (the translation table's entry for (carry, sign))."""
    return (r_hi + carry - sign) % (1 << high_width(t, kappa))


def join_masked(t: ActivationTable, kappa: int, out: dict, r_u) -> np.ndarray | list:
    """y_masked from the masked circuit's outputs (evaluated in the clear: 'y_low', 'carry',
    'sign' per instance) and the full masks r_u: what the evaluator assembles from its
    decoded low bits and its row of the translation table."""
    k = low_width(t)
    return [(high_part(t, kappa, int(r) >> k, int(c), int(s)) << k) + int(lo)
            for lo, c, s, r in zip(out["y_low"], out["carry"], out["sign"], r_u, strict=True)]


def masked_activation_circuit(t: ActivationTable, kappa: int) -> Circuit:
    """The circuit the protocol garbles: inputs x_masked (user), r_c (cloud), r_lo (the
    garbler's); outputs the low k = low_width(t) bits of y_masked = t(x_masked - r_c) + r_u,
    and the two wires that, with r_hi, give the rest (the translation table, docs/protocol.md).

    x_masked and r_c enter modulo 2^acc_bits (the low bits of the masked accumulator and of
    the cloud's mask, which is all the subtraction needs); r_u = r_hi 2^k + r_lo is a
    (l_a + kappa)-bit mask and y_masked the exact, non-negative (l_a + kappa + 1)-bit integer
    t + r_u. With z the k-bit two's complement bus of y (its ones' complement when t is odd;
    the +1 rides as the carry-in s), L = z + r_lo + s is computed exactly in k + 1 bits:
    'y_low' = L mod 2^k, 'carry' = L >> k and 'sign' = z's top bit. Since z = t - s + 2^k sign,
    t + r_u = 2^k (r_hi + carry - sign) + y_low: the evaluator never sees carry or sign (no
    decoding bits), only its row of the table the garbler makes from r_hi (high_part)."""
    b = Builder()
    xm = b.input("x_masked", t.acc_bits)
    rc = b.input("r_c", t.acc_bits)
    k = low_width(t)
    r_lo = b.input("r_lo", k)
    x = sub(b, xm, rc)
    s, y = _value(b, t, x)
    if not value_signed(t):
        y = y + [b.const(0)]                 # room for the sign
    if t.odd:                                # ones' complement; the +1 is the carry-in below
        y = [b.xor(bit, s) for bit in y]
    if len(y) != k:
        raise AssertionError(f"y has {len(y)} bits, low_width says {k}")
    total = add_with_carry(b, y, r_lo, cin=s if t.odd else None, width=k)
    b.output("y_low", total[:k])
    b.output("carry", total[k:])
    b.output("sign", [y[-1]])
    return b.build()
