"""tanh* in integers, written from the seed paper's constants, independently of
compiler.activation_table (pure Python ints, no numpy): the tests' yardstick."""
import math

# The seed paper: m, c, d per segment, for |x| <= 1.52 and |x| <= 2.57; 1 beyond; odd.
PAPER = [(1.52, -0.2716, 1.0, 0.016), (2.57, -0.0848, 0.42654, 0.4519)]


def tanh_star_int(x: int, acc_frac: int, f_a: int, f_c: int) -> int:
    """Integer tanh* of an accumulator x with acc_frac fractional bits, in fix<., f_a>."""
    neg = x < 0
    shift = acc_frac - f_a
    ones = -x - 1 if neg else x                              # ones' complement magnitude
    mag = (ones + (1 << (shift - 1))) >> shift if shift else ones   # rounded to f_a bits
    y = round(1.0 * 2 ** f_a)
    for bound, m, c, d in PAPER:
        if mag <= math.floor(bound * 2 ** f_a):
            M, C, D = (int(round(v * 2 ** f_c)) for v in (m, c, d))
            sq = (mag * mag) >> f_a
            y = (M * sq + C * mag + (D << f_a) + (1 << (f_c - 1))) >> f_c
            break
    return -y if neg else y
