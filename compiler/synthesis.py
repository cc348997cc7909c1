"""Synthesis of a piecewise-polynomial activation into a boolean circuit.

The circuit computes exactly `compiler.activation_table.ActivationTable` (see its docstring
for the integer semantics). Where the ANDs go, for a table with n segments of degree d:

- magnitude: the ones' complement (X xor s) costs XOR gates only; rounding it to the
  activation's precision is one increment of the bits above the dropped ones;
- saturation test a > T[-1] and segment tests a <= T[k]: comparators with constants;
- powers: one shared squarer for P2 (about half the ANDs of a multiplier), general
  multipliers only for degree >= 3;
- per segment: one column sum of the canonical-signed-digit copies of every power and the
  constant (c0 term plus rounding bit), rather than a multiplier per term followed by
  additions; every width is the minimum that the
  exhaustive range analysis of the table allows (sums are computed modulo 2^w, which is
  exact for the in-interval values the multiplexer lets through);
- selection: one multiplexer per segment boundary plus one for saturation;
- sign: odd symmetry needs t = (y xor s) + s; in the masked circuit the "+ s" rides as the
  carry-in of the final "+ r_u" addition and costs nothing.
"""
from __future__ import annotations

from veil.circuits.builder import Builder, const_bits, shift_right, sign_extend, truncate, zero_extend
from veil.circuits.adders import add, add_const, cond_negate, sub
from veil.circuits.compare import gt_const, le_const
from veil.circuits.multiply import linear_combination, mul, square
from veil.circuits.mux import mux
from veil.circuits.circuit import Circuit
from veil.compiler.activation_table import ActivationTable


def signed_width(lo: int, hi: int) -> int:
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def _fit(b: Builder, bits: list[int], width: int) -> list[int]:
    return sign_extend(bits, width) if len(bits) < width else truncate(bits, width)


def _powers(b: Builder, t: ActivationTable, a: list[int]) -> list[list[int] | None]:
    ranges = t.ranges()
    f_a = t.out_format.frac
    powers: list[list[int] | None] = [None, a]
    for j in range(2, t.degree + 1):
        prev = powers[-1]
        full = len(prev) + len(a)
        prod = square(b, a, signed=False, width=full) if j == 2 else \
            mul(b, prev, a, signed=False, width=full)
        hi = ranges[f"P{j}"][1]
        # the shift leaves fewer bits than P_j needs (none) when P_j is 0 for every magnitude
        powers.append(_unsigned(b, shift_right(prod, f_a, signed=False), max(1, hi.bit_length())))
    return powers


def _unsigned(b: Builder, bits: list[int], width: int) -> list[int]:
    return zero_extend(b, bits, width) if len(bits) < width else truncate(bits, width)


def _segment(b: Builder, t: ActivationTable, k: int, powers) -> list[int]:
    """(sum_j K[k][j] * Pj + K[k][0] * 2^f_a + rounding) >> f_c, as one column sum."""
    lo, hi = t.ranges()[f"seg{k}"]
    width = signed_width(lo, hi) + 1
    coeffs = t.coeffs[k]
    terms = [(powers[j], coeffs[j]) for j in range(1, len(coeffs)) if coeffs[j]]
    const = (coeffs[0] << t.out_format.frac) + (1 << (t.coeff_frac - 1) if t.coeff_frac else 0)
    acc = linear_combination(b, terms, width, constant=const, signed=False)
    return _fit(b, shift_right(acc, t.coeff_frac, signed=True), t.out_format.total)


def magnitude_value(b: Builder, t: ActivationTable, mag: list[int]) -> list[int]:
    """y(a) in t.out_format.total bits for the unsigned magnitude bus `mag`."""
    w_out = t.out_format.total
    t_last = t.thresholds[-1]
    w_u = max(1, t_last.bit_length())
    saturated = gt_const(b, mag, t_last, signed=False) if len(mag) > 0 else b.const(0)
    a = zero_extend(b, mag, w_u) if len(mag) < w_u else truncate(mag, w_u)
    powers = _powers(b, t, a)
    y = _segment(b, t, len(t.thresholds) - 1, powers)
    for k in reversed(range(len(t.thresholds) - 1)):
        y = mux(b, le_const(b, a, t.thresholds[k], signed=False), y, _segment(b, t, k, powers))
    return mux(b, saturated, y, const_bits(b, t.saturation, w_out))


def _sign_and_magnitude(b: Builder, t: ActivationTable, x: list[int]) -> tuple[int, list[int]]:
    """s = [x < 0] and a = ((x xor -s) + 2^(shift-1)) >> shift: the ones' complement
    magnitude (free: XOR gates) rounded to the activation's precision (an increment of the
    bits above shift - 1: about acc_bits - shift ANDs)."""
    s = x[-1]
    ones = [b.xor(x[i], s) for i in range(t.acc_bits - 1)]
    if t.shift == 0:
        return s, ones
    rounded = add_const(b, ones, 1 << (t.shift - 1), width=t.acc_bits)
    return s, shift_right(rounded, t.shift, signed=False)


def activation_circuit(t: ActivationTable) -> Circuit:
    """The bare activation: input bus 'x' (the accumulator), output bus 't' (activation format)."""
    b = Builder()
    x = b.input("x", t.acc_bits)
    s, mag = _sign_and_magnitude(b, t, x)
    y = magnitude_value(b, t, mag)
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
    s, mag = _sign_and_magnitude(b, t, x)
    y = magnitude_value(b, t, mag)
    if t.odd:
        y = [b.xor(bit, s) for bit in y]     # ones' complement; the +1 is the carry-in below
    w_out = w_ru + 1
    b.output("y_masked", add(b, sign_extend(y, w_out), zero_extend(b, ru, w_out),
                             cin=s if t.odd else None, width=w_out))
    return b.build()
