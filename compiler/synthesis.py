"""Synthesis of a piecewise-polynomial activation into a boolean circuit.

The circuit computes exactly `compiler.activation_table.ActivationTable` (see its docstring
for the integer semantics). Where the ANDs go (docs/circuits.md has the counts):

- magnitude: the ones' complement (X xor s) costs XOR gates only. With
  o = floor(ones / 2^(shift-1)), the rounded magnitude is a = (o + 1) >> 1, so
  saturation a > T[-1] is o >= 2 T[-1] + 1: one comparator with a constant over o, and
  the increment only runs over the bits of o that a's low bits need (about 10), not the
  whole accumulator;
- segment tests a <= T[k]: comparators with constants, turned into one-hot selectors;
- the polynomials (compiler.polynomial): one squarer of the offset magnitude b = a - o_k
  and one column sum whose coefficients the selectors pick;
- saturation: y bits where the saturation value has a 0 are ANDed with ~sat, the others
  ORed (one AND per bit of the polynomial's value, whose width the range analysis gives);
- sign: odd symmetry needs t = (y xor s) + s; in the masked circuit the "+ s" rides as the
  carry-in of the final "+ r_u" addition and costs nothing.
"""
from __future__ import annotations

from veil.circuits.adders import add, add_const, cond_negate, sub
from veil.circuits.builder import Builder, extend, sign_extend, truncate, zero_extend
from veil.circuits.circuit import Circuit
from veil.circuits.compare import ge_const, gt_const
from veil.circuits.mux import mux_const
from veil.compiler.activation_table import ActivationTable
from veil.compiler.polynomial import magnitude_width, polynomial_circuit, y_range


def signed_width(lo: int, hi: int) -> int:
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def _sign_and_magnitude(b: Builder, t: ActivationTable, x: list[int]) -> tuple[int, list[int], int]:
    """s = [x < 0], the low magnitude_width(t) bits of a = ((x xor -s) + 2^(shift-1)) >> shift
    (exact whenever a <= T[-1]), and sat = [a > T[-1]]."""
    s = x[-1]
    ones = [b.xor(x[i], s) for i in range(t.acc_bits - 1)]
    w_u, last = magnitude_width(t), t.thresholds[-1]
    if t.shift == 0:
        sat = gt_const(b, ones, last, signed=False) if ones else b.const(0)
        return s, extend(b, ones, w_u, False) if len(ones) < w_u else truncate(ones, w_u), sat
    o = ones[t.shift - 1:]
    sat = ge_const(b, o, 2 * last + 1, signed=False) if o else b.const(0)
    low = o[:w_u + 1] if len(o) > w_u else zero_extend(b, o, w_u + 1)
    return s, add_const(b, low, 1)[1:], sat


def _saturated_value(b: Builder, t: ActivationTable, a: list[int], sat: int) -> tuple[list[int], bool]:
    """t.magnitude_values(a) and whether it is read signed."""
    lo, hi = y_range(t)
    lo, hi = min(lo, t.saturation), max(hi, t.saturation)
    signed = lo < 0
    y = b.inline(polynomial_circuit(t), {"a": a})["y"]
    width = signed_width(lo, hi) if signed else max(1, hi.bit_length())
    y = extend(b, y, width, y_range(t)[0] < 0)
    return mux_const(b, sat, y, t.saturation), signed


def activation_circuit(t: ActivationTable) -> Circuit:
    """The bare activation: input bus 'x' (the accumulator), output bus 't' (activation format)."""
    b = Builder()
    x = b.input("x", t.acc_bits)
    s, a, sat = _sign_and_magnitude(b, t, x)
    y, signed = _saturated_value(b, t, a, sat)
    y = extend(b, y, t.out_format.total, signed)
    b.output("t", cond_negate(b, y, s) if t.odd else y)
    return b.build()


def masked_activation_circuit(t: ActivationTable, kappa: int) -> Circuit:
    """The circuit the protocol garbles: inputs x_masked (user), r_c (cloud), r_u (user);
    output y_masked = t(x_masked - r_c) + r_u.

    x_masked and r_c enter modulo 2^acc_bits (the low bits of the masked accumulator and of
    the cloud's mask, which is all the subtraction needs); r_u is a (l_a + kappa)-bit mask and
    y_masked the exact, non-negative (l_a + kappa + 1)-bit integer t + r_u."""
    b = Builder()
    xm = b.input("x_masked", t.acc_bits)
    rc = b.input("r_c", t.acc_bits)
    w_ru = t.out_format.total + kappa
    ru = b.input("r_u", w_ru)
    x = sub(b, xm, rc)
    s, a, sat = _sign_and_magnitude(b, t, x)
    y, signed = _saturated_value(b, t, a, sat)
    if not signed:
        y = y + [b.const(0)]                 # room for the sign
    if t.odd:                                # ones' complement; the +1 is the carry-in below
        y = [b.xor(bit, s) for bit in y]
    w_out = w_ru + 1
    b.output("y_masked", add(b, sign_extend(y, w_out), zero_extend(b, ru, w_out),
                             cin=s if t.odd else None, width=w_out))
    return b.build()
