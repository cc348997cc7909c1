"""tanh* and tanh4 in integers, written from their constants, independently of
compiler.activation_table (pure Python ints, no numpy): the tests' yardstick."""
import math

# The seed paper's tanh*: m, c, d per segment, for |x| <= 1.52 and |x| <= 2.57; 1 beyond; odd.
PAPER = [(1.52, -0.2716, 1.0, 0.016), (2.57, -0.0848, 0.42654, 0.4519)]
# tanh4 (compiler/prelude.veil, issue 15): four segments up to 3.2; 1 beyond; odd.
TANH4 = [(0.7, -0.25606, 1.04833, 0.0), (1.4, -0.30198, 1.03062, 0.03256),
         (2.2, -0.10112, 0.47322, 0.42267), (3.2, -0.01897, 0.12214, 0.79955)]


def odd_quadratic_int(x: int, segments, acc_frac: int, f_a: int, f_c: int) -> int:
    """An odd piecewise quadratic saturating at 1 (segments: bound, m, c, d) of an accumulator
    x with acc_frac fractional bits, in fix<., f_a>."""
    neg = x < 0
    shift = acc_frac - f_a
    ones = -x - 1 if neg else x                              # ones' complement magnitude
    mag = (ones + (1 << (shift - 1))) >> shift if shift else ones   # rounded to f_a bits
    y = round(1.0 * 2 ** f_a)
    for bound, m, c, d in segments:
        if mag <= math.floor(bound * 2 ** f_a):
            M, C, D = (int(round(v * 2 ** f_c)) for v in (m, c, d))
            sq = (mag * mag) >> f_a
            y = (M * sq + C * mag + (D << f_a) + (1 << (f_c - 1))) >> f_c
            break
    return -y if neg else y


def tanh_star_int(x: int, acc_frac: int, f_a: int, f_c: int) -> int:
    """Integer tanh* of an accumulator x with acc_frac fractional bits, in fix<., f_a>."""
    return odd_quadratic_int(x, PAPER, acc_frac, f_a, f_c)
