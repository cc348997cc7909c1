"""The compiled tanh* circuits against an integer tanh* written here from the seed paper's
constants, independently of compiler.activation_table (pure Python ints, no numpy)."""
import numpy as np
import pytest

from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise
from veil.compiler.synthesis import activation_circuit, masked_activation_circuit
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
                         "r_u": np.array(r_u, dtype=object)})["y_masked"]
    want = [tanh_star_int(int(xi), 24, 12, 14) + ru for xi, ru in zip(x, r_u)]
    assert [int(v) for v in out] == want


def test_circuit_is_small():
    """Regression guard on the AND count of the protocol's tanh* circuit in compact's formats
    (fix<10,8> activations, 31-bit accumulator, 9-bit coefficients; see docs/circuits.md)."""
    table = tanh_star_table(31, 17, f_a=8, f_c=9, total=10)
    c = optimise(masked_activation_circuit(table, 40)).counts()
    assert c["AND"] <= 360
