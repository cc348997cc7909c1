"""The compiled tanh* circuits against an integer tanh* written here from the seed paper's
constants, independently of compiler.activation_table (pure Python ints, no numpy)."""
import numpy as np
import pytest

from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise
from veil.compiler.synthesis import (activation_circuit, join_masked, low_width,
                                     masked_activation_circuit)
from veil.compiler.activation_table import ActivationTable
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.check import load_prelude

from .tanh_star_reference import tanh_star_int


def tanh_star_table(acc_bits, acc_frac, f_a=12, f_c=14, total=16):
    act = load_prelude()["tanh_star"]
    return ActivationTable.build(act, acc_bits, acc_frac, FixFormat(total, f_a), f_c)


def test_every_16_bit_accumulator():
    table = tanh_star_table(acc_bits=16, acc_frac=13)     # x in [-4, 4) with 13 fraction bits
    lin = linearise(optimise(activation_circuit(table)))
    xs = np.arange(-2 ** 15, 2 ** 15, dtype=np.int64)
    got = evaluate(lin, {"x": xs}, signed_outputs=("t",))["t"]
    want = np.array([tanh_star_int(int(x), 13, 12, 14) for x in xs], dtype=np.int64)
    assert np.array_equal(np.asarray(got, dtype=np.int64), want)
    assert np.array_equal(table.reference(xs), want)


@pytest.mark.parametrize("acc_bits,acc_frac", [(41, 24), (46, 24), (20, 16)])
def test_wide_accumulators_random(acc_bits, acc_frac):
    table = tanh_star_table(acc_bits, acc_frac)
    lin = linearise(optimise(activation_circuit(table)))
    rng = np.random.default_rng(acc_bits)
    # Dense near the interesting range, plus the full range and the extremes.
    near = rng.integers(-3 * 2 ** acc_frac, 3 * 2 ** acc_frac, 20000)
    full = rng.integers(-2 ** (acc_bits - 1), 2 ** (acc_bits - 1), 5000)
    edges = np.array([-2 ** (acc_bits - 1), 2 ** (acc_bits - 1) - 1, 0, -1, 1])
    xs = np.concatenate([near, full, edges]).astype(np.int64)
    got = np.asarray(evaluate(lin, {"x": xs}, signed_outputs=("t",))["t"], dtype=np.int64)
    want = np.array([tanh_star_int(int(x), acc_frac, 12, 14) for x in xs], dtype=np.int64)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("kappa", [40, 8])
def test_masked_circuit_relation(kappa):
    table = tanh_star_table(41, 24)
    lin = linearise(optimise(masked_activation_circuit(table, kappa)))
    rng = np.random.default_rng(kappa)
    n, acc, w_a = 3000, 41, 16
    x = rng.integers(-3 * 2 ** 24, 3 * 2 ** 24, n)
    r_c = [int(v) for v in rng.integers(0, 2 ** 62, n)]        # wider than the bus: taken mod 2^41
    r_u = [(1 << w_a) + int(v) % ((1 << (w_a + kappa)) - (1 << w_a)) for v in rng.integers(0, 2 ** 62, n)]
    x_masked = [(int(xi) + rc) for xi, rc in zip(x, r_c)]
    out = evaluate(lin, {"x_masked": np.array([v % (1 << acc) for v in x_masked], dtype=object),
                         "r_c": np.array([v % (1 << acc) for v in r_c], dtype=object),
                         "r_lo": np.array([v % (1 << low_width(table)) for v in r_u],
                                          dtype=object)})
    out = join_masked(table, kappa, out, r_u)
    want = [tanh_star_int(int(xi), 24, 12, 14) + ru for xi, ru in zip(x, r_u)]
    assert [int(v) for v in out] == want


# The built-in models' activation formats: (acc_bits, acc_frac) of tiny's and compact's two
# hidden layers, all with fix<10,8> activations and 9-bit coefficients.
CATALOG = {"tiny1": (29, 18), "tiny2": (26, 17), "compact1": (35, 19), "compact2": (33, 18)}


def catalog_table(name):
    return tanh_star_table(*CATALOG[name], f_a=8, f_c=9, total=10)


def around_every_magnitude(t, rng):
    """Accumulators x whose rounded magnitude is each a in [0, 1026) (past the saturation
    bound 657 and past the 10 bits a has), both signs: the two x at the edges of a's rounding
    interval and one inside; then x with each high bit set and random x over the whole width."""
    h = 1 << t.shift - 1
    a = np.arange(1026, dtype=np.int64)
    ones = np.concatenate([(a << t.shift) - h, (a << t.shift) + h - 1,
                           (a << t.shift) - h + rng.integers(0, 2 * h, len(a))])
    ones = ones[ones >= 0]
    top = np.array([1 << k for k in range(t.acc_bits - 1)], dtype=np.int64)
    ones = np.concatenate([ones, top, top - 1, rng.integers(0, 1 << t.acc_bits - 1, 20000)])
    return np.concatenate([ones, -ones - 1])


@pytest.mark.parametrize("name", CATALOG)
def test_catalog_formats_around_every_magnitude(name):
    t = catalog_table(name)
    xs = around_every_magnitude(t, np.random.default_rng(len(name)))
    got = evaluate(linearise(optimise(activation_circuit(t))), {"x": xs}, signed_outputs=("t",))["t"]
    assert np.array_equal(np.asarray(got, dtype=np.int64), t.reference(xs))
    some = xs[::97]
    assert [int(v) for v in t.reference(some)] == [tanh_star_int(int(x), t.acc_frac, 8, 9) for x in some]


@pytest.mark.parametrize("name", CATALOG)
def test_catalog_formats_masked(name):
    t, kappa = catalog_table(name), 40
    rng = np.random.default_rng(7)
    x = around_every_magnitude(t, rng)
    n, acc = len(x), t.acc_bits
    r_c = [int(v) for v in rng.integers(0, 2 ** 62, n)]
    r_u = [int(v) for v in rng.integers(1 << 10, 1 << 50, n)]
    out = evaluate(linearise(optimise(masked_activation_circuit(t, kappa))),
                   {"x_masked": np.array([(int(v) + rc) % (1 << acc) for v, rc in zip(x, r_c)], dtype=object),
                    "r_c": np.array([rc % (1 << acc) for rc in r_c], dtype=object),
                    "r_lo": np.array([v % (1 << low_width(t)) for v in r_u], dtype=object)})
    assert join_masked(t, kappa, out, r_u) == [int(y) + ru for y, ru in zip(t.reference(x), r_u)]


@pytest.mark.slow
@pytest.mark.parametrize("name", CATALOG)
def test_catalog_formats_every_accumulator_below_saturation(name):
    """Every x with |x| < 1026 * 2^shift (4.2 million for compact's first layer): every
    rounding of every magnitude up to past the saturation bound."""
    t = catalog_table(name)
    lim = 1026 << t.shift
    xs = np.arange(-lim, lim, dtype=np.int64)
    got = evaluate(linearise(optimise(activation_circuit(t))), {"x": xs}, signed_outputs=("t",))["t"]
    assert np.array_equal(np.asarray(got, dtype=np.int64), t.reference(xs))


# AND counts of the optimised circuits in the built-in formats (docs/circuits.md has the
# breakdown: python bench/circuit_breakdown.py --model compact --layer 2).
ANDS = {"tiny1": (202, 173), "tiny2": (197, 171), "compact1": (213, 178), "compact2": (210, 177)}


@pytest.mark.parametrize("name", CATALOG)
def test_circuit_is_small(name):
    """Regression guard on the AND counts (masked, bare) of the protocol's tanh* circuit."""
    t = catalog_table(name)
    masked = optimise(masked_activation_circuit(t, 40)).counts()["AND"]
    bare = optimise(activation_circuit(t)).counts()["AND"]
    assert masked <= ANDS[name][0]
    assert bare <= ANDS[name][1]
