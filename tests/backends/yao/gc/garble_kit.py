"""Shared helpers for the garbling tests (imported as a sibling module), plus checks of the
helpers themselves: a two-party run with a simulated OT, circuits to garble, input samplers."""
from __future__ import annotations

import functools
import random

import numpy as np

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc.bits import to_bits
from veil.circuits import adders, compare, multiply, mux
from veil.circuits.builder import Builder, const_bits, zero_extend
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.circuits.linear import Linearised, linearise

SCHEMES = ("half-gates", "three-halves")  # by their wire names: every scheme garble() offers


def ot_select(pairs: tuple[np.ndarray, np.ndarray], values, width: int) -> np.ndarray:
    """What an ideal OT hands the evaluator: per bit, the label of its choice bit."""
    zero, one = pairs
    return np.where(to_bits(values, width)[..., None] == 1, one, zero)


def two_party(lin: Linearised, inputs: dict[str, np.ndarray], evaluator_buses=(),
              tweak_base: int = 1, first_instance: int = 0, scheme: str | None = None):
    """Garble (with `scheme`, else the default), encode (the garbler's buses directly, the
    evaluator's through ot_select), evaluate and decode; returns (outputs, gc, secrets,
    active input labels)."""
    n = len(next(iter(inputs.values())))
    kw = {} if scheme is None else {"scheme": scheme}
    gc, sec = G.garble(lin, n, tweak_base, first_instance=first_instance, **kw)
    labels = {}
    for bus, values in inputs.items():
        if bus in evaluator_buses:
            labels[bus] = ot_select(G.label_pairs(sec, bus), values, len(lin.inputs[bus]))
        else:
            labels[bus] = G.input_labels(sec, bus, values)
    out = G.decode(gc, G.evaluate(lin, gc, labels))
    return out, gc, sec, labels


def random_inputs(lin: Linearised, n: int, seed: int) -> dict[str, np.ndarray]:
    """Uniform values for every input bus (object ints for buses wider than 62 bits)."""
    rng = random.Random(seed)  # test data only; the garbling code never uses `random`
    return {k: np.array([rng.getrandbits(len(v)) for _ in range(n)], dtype=object
                        if len(v) > 62 else np.int64) for k, v in lin.inputs.items()}


def assert_matches_plaintext(lin: Linearised, inputs: dict[str, np.ndarray], **kw) -> None:
    """two_party (kw: evaluator_buses, scheme, ...) equals the plaintext evaluator exactly."""
    got = two_party(lin, inputs, **kw)[0]
    want = plain_evaluate(lin, inputs)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k].dtype == want[k].dtype, k
        assert np.array_equal(got[k], want[k]), k


@functools.lru_cache(maxsize=1)
def tiny_activation():
    """(masked tanh* Linearised, acc_bits, l_a) of the tiny model."""
    from veil.models.catalog import compile_model
    p = compile_model("tiny")
    lin = p.activation(1).masked_linear
    return lin, len(lin.inputs["x_masked"]), p.model.activation_format.total


def tanh_inputs(n: int, seed: int) -> dict[str, np.ndarray]:
    lin, acc, l_a = tiny_activation()
    rng = np.random.default_rng(seed)  # test data only
    return {"x_masked": rng.integers(0, 1 << acc, n), "r_c": rng.integers(0, 1 << acc, n),
            "r_lo": rng.integers(0, 1 << len(lin.inputs["r_lo"]), n)}


def random_circuit(seed: int) -> Linearised:
    """A random composition of library blocks, raw gates and constants over 3 input buses."""
    rng = random.Random(seed)
    b = Builder()
    pool = [b.input(f"x{i}", rng.randint(1, 12)) for i in range(3)]
    for _ in range(rng.randint(3, 8)):
        x, y = rng.choice(pool), rng.choice(pool)
        w = max(len(x), len(y))
        op = rng.randrange(8)
        if op == 0:
            z = adders.add(b, x, y, width=w + 1)
        elif op == 1:
            z = adders.sub(b, x, y, signed=True)
        elif op == 2:
            z = multiply.mul(b, x[:6], y[:6], signed=rng.random() < 0.5)
        elif op == 3:
            z = [compare.lt(b, x, y, signed=rng.random() < 0.5)]
        elif op == 4:
            z = mux.mux(b, rng.choice(x), zero_extend(b, x, w), zero_extend(b, y, w))
        elif op == 5:
            z = adders.add_const(b, x, rng.getrandbits(len(x)))
        elif op == 6:
            z = [b.not_(v) if rng.random() < 0.5 else b.and_(v, rng.choice(y)) for v in x]
        else:
            z = [b.xor(u, v) for u, v in zip(x, y)] + const_bits(b, rng.getrandbits(3), 3)
        pool.append(z)
    for i, bus in enumerate(pool[-3:]):
        b.output(f"z{i}", bus)
    return linearise(b.build())


def test_ot_select_picks_by_bit():
    zero = np.zeros((3, 2, 16), np.uint8)
    one = np.ones((3, 2, 16), np.uint8)
    got = ot_select((zero, one), [0b101, 0b010], 3)
    assert got[:, 0, 0].tolist() == [1, 0, 1] and got[:, 1, 0].tolist() == [0, 1, 0]


def test_random_circuits_are_varied():
    lins = [random_circuit(s) for s in range(6)]
    assert len({lin.and_count for lin in lins}) > 1
    assert any(lin.const0 >= 0 or lin.const1 >= 0 for lin in lins)
    assert any(any(st.op.name == "NOT" for st in lin.steps) for lin in lins)
