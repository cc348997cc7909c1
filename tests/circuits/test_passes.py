"""Optimisation passes: each preserves the function (random circuits, checked by
evaluation), keeps the buses, verifies, and actually shrinks what it should."""
import pytest
from .circuit_testkit import naive_eval, random_circuit, random_inputs

from veil.circuits.builder import Builder
from veil.circuits.circuit import Circuit
from veil.circuits.gates import Op
from veil.circuits.passes import fold_constants, hash_structurally, optimise, remove_dead

PASSES = [fold_constants, remove_dead, hash_structurally, optimise]


def _same_function(a: Circuit, b: Circuit, n: int = 200) -> None:
    inputs = random_inputs(a, n, seed=len(a.graph))
    assert naive_eval(a, inputs) == naive_eval(b, inputs)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("p", PASSES, ids=lambda p: p.__name__)
def test_pass_preserves_function_and_buses(p, seed):
    c = random_circuit(seed)
    out = p(c)
    out.verify()
    assert out is not c and out.input_widths() == c.input_widths()
    assert out.output_widths() == c.output_widths()
    _same_function(c, out)


@pytest.mark.parametrize("seed", range(10))
def test_passes_compose(seed):
    c = random_circuit(seed, n_gates=120)
    for p in (hash_structurally, fold_constants, remove_dead, fold_constants, hash_structurally):
        c2 = p(c)
        c2.verify()
        _same_function(c, c2)
        c = c2


@pytest.mark.parametrize("seed", range(10))
def test_optimise_reaches_a_fixpoint(seed):
    c = optimise(random_circuit(seed))
    for p in PASSES:
        assert p(c).counts() == c.counts()


def _one(build_body) -> Circuit:
    b = Builder()
    x, y = b.input("x", 1)[0], b.input("y", 1)[0]
    b.output("z", [build_body(b, x, y)])
    return b.build()


@pytest.mark.parametrize("body,expect", [
    (lambda b, x, y: b.and_(x, b.const(0)), Op.CONST0),
    (lambda b, x, y: b.and_(b.const(1), x), Op.INPUT),
    (lambda b, x, y: b.xor(x, b.const(0)), Op.INPUT),
    (lambda b, x, y: b.xor(b.const(1), x), Op.NOT),
    (lambda b, x, y: b.not_(b.not_(x)), Op.INPUT),
    (lambda b, x, y: b.not_(b.const(0)), Op.CONST1),
    (lambda b, x, y: b.and_(x, x), Op.INPUT),
    (lambda b, x, y: b.xor(y, y), Op.CONST0),
    (lambda b, x, y: b.and_(x, b.not_(x)), Op.CONST0),
    (lambda b, x, y: b.xor(b.not_(x), x), Op.CONST1),
    (lambda b, x, y: b.xor(b.const(1), b.const(1)), Op.CONST0),
    (lambda b, x, y: b.xor(b.not_(x), b.not_(y)), Op.XOR),
])
def test_fold_rules(body, expect):
    c = _one(body)
    folded = remove_dead(fold_constants(c))
    assert folded.gate(folded.outputs["z"][0]).op is expect
    def gates(k):
        return sum(k.counts()[op] for op in ("AND", "XOR", "NOT"))
    assert gates(folded) <= gates(c) - (expect is not Op.NOT)
    _same_function(c, folded, n=4)


def test_fold_propagates_through_a_chain():
    """x & 0 feeding a chain collapses it entirely."""
    b = Builder()
    x = b.input("x", 4)
    acc = b.and_(x[0], b.const(0))
    for w in x[1:]:
        acc = b.and_(b.xor(acc, b.not_(b.const(1))), b.not_(b.not_(w)))
    b.output("z", [acc])
    c = optimise(b.build())
    assert c.counts()["AND"] == 0 and c.counts()["XOR"] == 0


def test_hash_merges_duplicated_subcircuits():
    b = Builder()
    x = b.input("x", 3)
    def sub():  # the same cone, operands in another order the second time
        return b.xor(b.and_(x[0], x[1]), b.not_(x[2]))
    s1 = sub()
    s2 = b.xor(b.not_(x[2]), b.and_(x[1], x[0]))
    b.output("z", [s1, s2, b.and_(s1, s2)])
    c = b.build()
    h = hash_structurally(c)
    assert h.counts()["AND"] == 2 and h.counts()["NOT"] == 1 and h.counts()["XOR"] == 1
    assert h.outputs["z"][0] == h.outputs["z"][1]
    o = optimise(c)  # s1 & s1 = s1 once hashed
    assert o.counts()["AND"] == 1
    _same_function(c, o, n=8)


def test_remove_dead_keeps_inputs_and_drops_the_rest():
    b = Builder()
    x = b.input("x", 3)
    b.and_(x[0], x[1])
    b.not_(b.xor(x[1], x[2]))
    b.output("z", [x[2], b.const(1)])
    c = remove_dead(b.build())
    assert sorted(c.gate(w).op.name for w in c.graph) == ["CONST1", "INPUT", "INPUT", "INPUT"]
    assert c.input_widths() == {"x": 3}


def test_optimise_shrinks_random_circuits():
    shrunk = [len(optimise(c).graph) < len(c.graph) for c in map(random_circuit, range(20))]
    assert all(shrunk)
