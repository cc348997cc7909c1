"""Garble + evaluate + decode agrees with the plaintext evaluator, bit for bit, under every
garbling scheme."""
import numpy as np
import pytest
from .garble_kit import (SCHEMES, assert_matches_plaintext, random_circuit, random_inputs,
                         tanh_inputs, tiny_activation, two_party)

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import plan as gc_plan
from veil.backends.yao.gc import labels as L
from veil.backends.yao.gc.bits import to_bits
from veil.circuits import adders, multiply
from veil.circuits.builder import Builder
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.circuits.linear import linearise


@pytest.fixture(params=SCHEMES)
def scheme(request):
    return request.param


def _lin(fn, *widths):
    b = Builder()
    buses = [b.input(f"x{i}", w) for i, w in enumerate(widths)]
    b.output("z", fn(b, *buses))
    return linearise(b.build())


@pytest.mark.parametrize("n", [1, 7, 1000])
def test_masked_tanh(n, scheme):
    lin, _, _ = tiny_activation()
    assert_matches_plaintext(lin, tanh_inputs(n, seed=n), evaluator_buses=("r_c",),
                             scheme=scheme)


@pytest.mark.parametrize("seed", range(8))
def test_random_circuits(seed, scheme):
    lin = random_circuit(seed)
    assert_matches_plaintext(lin, random_inputs(lin, 37, seed), evaluator_buses=("x1",),
                             scheme=scheme)


def test_adder_exhaustive(scheme):
    lin = _lin(lambda b, x, y: adders.add_with_carry(b, x, y), 6, 6)
    xs, ys = np.meshgrid(np.arange(64), np.arange(64), indexing="ij")
    assert_matches_plaintext(lin, {"x0": xs.ravel(), "x1": ys.ravel()}, evaluator_buses=("x1",),
                             scheme=scheme)


@pytest.mark.parametrize("signed", [False, True])
def test_multiplier(signed, scheme):
    lin = _lin(lambda b, x, y: multiply.mul(b, x, y, signed=signed), 16, 16)
    assert_matches_plaintext(lin, random_inputs(lin, 300, 5), scheme=scheme)


def test_wide_output_is_python_ints(scheme):
    lin = _lin(lambda b, x, y: multiply.mul(b, x, y), 40, 40)  # 80-bit product
    inputs = random_inputs(lin, 50, 1)
    got = two_party(lin, inputs, scheme=scheme)[0]["z"]
    assert got.dtype == object
    assert [int(v) for v in got] == [int(x) * int(y) for x, y in zip(inputs["x0"], inputs["x1"])]


def test_constants_and_not_gates(scheme):
    def fn(b, x):
        plus = adders.add_const(b, x, 0b1011)
        return [b.not_(plus[0]), b.const(1), b.const(0), *plus[1:]]
    lin = _lin(fn, 8)
    assert lin.const0 >= 0 and lin.const1 >= 0
    assert_matches_plaintext(lin, {"x0": np.arange(256)}, scheme=scheme)


def test_circuit_without_and_gates(scheme):
    lin = _lin(lambda b, x, y: [b.not_(b.xor(u, v)) for u, v in zip(x, y)], 9, 9)
    assert lin.and_count == 0
    assert_matches_plaintext(lin, random_inputs(lin, 20, 2), evaluator_buses=("x0",),
                             scheme=scheme)


@pytest.mark.parametrize("budget", [4096, 40])
def test_many_blocks_with_a_partial_last_block(monkeypatch, budget, scheme):
    """Blocks of 16 instances (the last one partial) and, with budget 40, AND steps cut into
    parts of 2 gates (8 gates in the partial block); three-halves doubles both (its scale)."""
    monkeypatch.setattr(G, "BLOCK", 16)
    monkeypatch.setattr(gc_plan, "AND_BUDGET", budget)
    lin, _, _ = tiny_activation()
    assert_matches_plaintext(lin, tanh_inputs(16 * 3 + 5, seed=3), evaluator_buses=("r_c",),
                             scheme=scheme)


def test_chunks_with_instance_offsets(scheme):
    """A batch streamed as chunks (same tweak_base, first_instance = offset) decodes right."""
    lin, _, _ = tiny_activation()
    inputs = tanh_inputs(300, seed=9)
    want = plain_evaluate(lin, inputs)["y_low"]
    got = [two_party(lin, {k: v[i:i + 100] for k, v in inputs.items()}, ("r_c",),
                     tweak_base=77, first_instance=i, scheme=scheme)[0]["y_low"]
           for i in range(0, 300, 100)]
    assert np.array_equal(np.concatenate(got), want)


def _garble_with_correlated_ot(lin, inputs, cot, scheme):
    """R fixed first, the OT's zero sides become the zero-labels of r_c (the evaluator's)."""
    n, acc = len(inputs["r_c"]), len(lin.inputs["r_c"])
    delta = L.random_delta()
    choices = to_bits(inputs["r_c"], acc).reshape(-1)
    m0, mc = cot(delta, choices)
    gc, sec = G.garble(lin, n, 5, delta=delta, zero_labels={"r_c": m0.reshape(acc, n, 16)},
                       scheme=scheme)
    assert np.array_equal(sec.delta, delta)
    with pytest.raises(ValueError, match="already released"):
        G.label_pairs(sec, "r_c")  # the OT already delivered them
    labels = {"x_masked": G.input_labels(sec, "x_masked", inputs["x_masked"]),
              "r_lo": G.input_labels(sec, "r_lo", inputs["r_lo"]),
              "r_c": mc.reshape(acc, n, 16)}
    return G.decode(gc, G.evaluate(lin, gc, labels))["y_low"]


def test_preset_offset_and_zero_labels_from_an_ideal_correlated_ot(scheme):
    lin, _, _ = tiny_activation()
    inputs = tanh_inputs(64, seed=4)

    def ideal(delta, choices):
        m0 = L.random_labels(len(choices))
        return m0, np.where(choices[:, None] == 1, m0 ^ delta, m0)
    got = _garble_with_correlated_ot(lin, inputs, ideal, scheme)
    assert np.array_equal(got, plain_evaluate(lin, inputs)["y_low"])


def test_with_the_projects_iknp_correlated_ot(scheme):
    ot_run = pytest.importorskip("veil.backends.yao.ot.run")
    lin, _, _ = tiny_activation()
    inputs = tanh_inputs(40, seed=8)
    got = _garble_with_correlated_ot(
        lin, inputs, lambda d, c: ot_run.run_correlated_ot(d.tobytes(), c), scheme)
    assert np.array_equal(got, plain_evaluate(lin, inputs)["y_low"])


def test_preset_offset_must_have_lsb_one(scheme):
    lin, _, _ = tiny_activation()
    for bad in (np.zeros(16, np.uint8), np.ones(15, np.uint8)):
        with pytest.raises(ValueError):
            G.garble(lin, 2, 1, delta=bad, scheme=scheme)


def test_input_values_are_taken_modulo_the_width(scheme):
    lin = _lin(lambda b, x, y: adders.add(b, x, y), 8, 8)
    inputs = {"x0": np.array([300, -1, 2**70], dtype=object), "x1": np.array([1, 1, 1])}
    assert two_party(lin, inputs, scheme=scheme)[0]["z"].tolist() == [(300 + 1) % 256, 0, 1]


def test_the_default_scheme_is_three_halves():
    lin, _, _ = tiny_activation()
    gc, _ = G.garble(lin, 3, 1)
    assert gc.scheme == "three-halves"


def test_an_unknown_scheme_is_refused():
    lin, _, _ = tiny_activation()
    with pytest.raises(ValueError, match="scheme"):
        G.garble(lin, 3, 1, scheme="quarter-gates")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", SCHEMES)
def test_masked_tanh_large_batch(scheme):
    lin, _, _ = tiny_activation()
    assert_matches_plaintext(lin, tanh_inputs(20000, seed=11), evaluator_buses=("r_c",),
                             scheme=scheme)
