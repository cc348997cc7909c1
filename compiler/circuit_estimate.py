"""How big an activation's circuits will be, from its quantised table, without building them.

`estimated_ands` is an upper bound on the AND gates synthesis.py emits for the bare and the
masked circuit together (before the optimisation passes, which is what synthesising and
optimising cost: each AND comes with about four other gates). It follows synthesis.py block
by block, using the same widths where they are exact (the magnitude, the powers' maxima at
the last bound) and bounds where synthesis uses the range analysis (each segment's sum):

- a w-bit adder, increment, comparator or multiplexer: at most w ANDs;
- an n x m multiplier or squarer: n*m partial products, each then summed: 2*n*m + n + m;
- a segment's column sum: every canonical-signed-digit copy of a power is one bit per
  position below the sum's width, and a full adder consumes a bit: the bits plus the width.

`range_cells` is the size of the table's exhaustive range analysis (activation_table.py).
Both take milliseconds: a few big-integer operations per term of each segment.
"""
from __future__ import annotations

from veil.circuits.multiply import naf
from veil.compiler.activation_table import ActivationTable


def range_cells(t: ActivationTable) -> int:
    """Magnitudes times powers (a, P2.., one sum per segment) the range analysis evaluates."""
    return (t.thresholds[-1] + 1) * (t.degree + 1)


def _segment_ands(t: ActivationTable, k: int, widths: list[int]) -> int:
    coeffs = t.coeffs[k]
    powers = t.powers_at(t.thresholds[k])
    rounding = 1 << (t.coeff_frac - 1) if t.coeff_frac else 0
    bound = abs(coeffs[0] << t.out_format.frac) + rounding + sum(
        abs(c) * powers[j - 1] for j, c in enumerate(coeffs) if j)
    width = bound.bit_length() + 2          # signed, plus the one synthesis adds
    bits = sum(min(widths[j], max(0, width - shift))
               for j, c in enumerate(coeffs) if j for shift, _ in naf(c))
    w_u = widths[1]
    return bits + width + w_u + t.out_format.total    # sum, test a <= T[k], multiplexer


def estimated_ands(t: ActivationTable, kappa: int) -> int:
    """An upper bound on the ANDs of activation_circuit(t) and masked_activation_circuit(t,
    kappa) together."""
    acc, l_a = t.acc_bits, t.out_format.total
    magnitude = acc - t.shift if t.shift else acc - 1
    top = t.powers_at(t.thresholds[-1])
    widths = [0] + [max(1, p.bit_length()) for p in top]      # widths[j]: P_j's bus
    w_u = widths[1]
    core = acc + magnitude                  # rounding increment, saturation test
    for j in range(2, t.degree + 1):        # P_j = P_(j-1) * a (a squarer for P2)
        core += 2 * widths[j - 1] * w_u + widths[j - 1] + w_u
    core += sum(_segment_ands(t, k, widths) for k in range(len(t.coeffs)))
    core += l_a                             # the saturation multiplexer
    bare = core + l_a                       # odd symmetry's conditional negation
    masked = core + acc + (l_a + kappa + 1)     # x_masked - r_c; + r_u
    return bare + masked
