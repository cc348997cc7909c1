"""linearise(): schedule validity, AND steps == AND depth, gate indices, numbering;
evaluate() on it agrees with a naive gate-by-gate reference evaluator."""
import numpy as np
import pytest
from .circuit_testkit import build, naive_eval, random_circuit, random_inputs

from veil.circuits import adders, multiply
from veil.circuits.evaluate import evaluate
from veil.circuits.gates import Op
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise

CIRCUITS = [random_circuit(s, n_gates=80) for s in range(12)] + [
    build(lambda b, x, y: multiply.mul(b, x, y, True), 6, 5),
    build(lambda b, x: multiply.square(b, x), 7),
    build(lambda b, x, y: adders.sub(b, x, y), 9, 9),
    optimise(build(lambda b, x: multiply.mul_const(b, x, -77, True), 8)),
]


def _check_schedule(lin) -> None:
    defined = np.zeros(lin.n_wires, dtype=bool)
    for idx in lin.inputs.values():
        defined[idx] = True
    for k in (lin.const0, lin.const1):
        if k >= 0:
            defined[k] = True
    for step in lin.steps:
        reads = [step.a] if step.op is Op.NOT else [step.a, step.b]
        for r in reads:
            assert defined[r].all(), "a step reads a wire not yet computed (or from its own step)"
        assert not defined[step.out].any(), "a wire is written twice"
        assert len(set(step.out.tolist())) == len(step.out)
        defined[step.out] = True
    for idx in lin.outputs.values():
        assert defined[idx].all()


@pytest.mark.parametrize("c", CIRCUITS)
def test_schedule_is_valid_and_agrees_with_reference(c):
    lin = linearise(c)
    _check_schedule(lin)
    assert lin.and_depth == c.counts()["and_depth"]
    assert sum(s.op is Op.AND for s in lin.steps) == lin.and_depth
    ands = [s.gate_index for s in lin.steps if s.op is Op.AND]
    flat = np.concatenate(ands) if ands else np.zeros(0, np.int64)
    assert sorted(flat.tolist()) == list(range(lin.and_count))
    assert all(len(s.gate_index) == 0 for s in lin.steps if s.op is not Op.AND)
    assert all(s.out.dtype == np.int64 and s.a.dtype == np.int64 for s in lin.steps)
    inputs = random_inputs(c, 150, seed=3)
    want = naive_eval(c, inputs)
    got = evaluate(lin, {k: np.array(v, dtype=object) for k, v in inputs.items()})
    assert {k: [int(x) for x in v] for k, v in got.items()} == want


def test_one_and_step_per_level_and_few_linear_steps():
    c = build(lambda b, x, y: adders.add(b, x, y), 8, 8)
    lin = linearise(c)
    kinds = [s.op for s in lin.steps]
    assert kinds.count(Op.AND) == 7 == c.counts()["and_depth"]
    assert sum(len(s) for s in lin.steps if s.op is Op.AND) == lin.and_count == 7
    # between AND steps: the carry c ^ t, then x ^ c and y ^ c, then the sum bit
    runs, n = [], 0
    for k in kinds:
        if k is Op.AND:
            runs.append(n)
            n = 0
        else:
            n += 1
    assert max(runs) <= 3


def test_dense_numbering_inputs_then_constants_then_gates():
    b_c = build(lambda b, x, y: [b.xor(x[0], b.const(1)), b.and_(x[1], b.const(0)), y[0]], 2, 3)
    lin = linearise(b_c)
    assert lin.inputs["x0"].tolist() == [0, 1] and lin.inputs["x1"].tolist() == [2, 3, 4]
    assert {lin.const0, lin.const1} == {5, 6} and lin.const0 == 5
    outs = np.concatenate([s.out for s in lin.steps])
    assert sorted(outs.tolist()) == list(range(7, lin.n_wires))
    assert lin.outputs["z"][2] == 2  # an output may be an input wire


def test_dead_gates_are_not_scheduled_and_constants_absent():
    def body(b, x):
        b.and_(b.and_(x[0], x[1]), b.const(1))  # dead, and the only use of a constant
        return [b.and_(x[0], x[1])]
    c = build(body, 2)
    lin = linearise(c)
    assert lin.and_count == 1 and lin.const0 == lin.const1 == -1


def test_arrays_are_read_only():
    lin = linearise(build(lambda b, x: [b.and_(x[0], x[1])], 2))
    with pytest.raises(ValueError):
        lin.steps[0].out[0] = 5
    with pytest.raises(ValueError):
        lin.inputs["x0"][0] = 1
