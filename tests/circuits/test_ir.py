"""Gates, the Circuit IR and its verifier, the Builder and the wiring helpers."""
import networkx as nx
import numpy as np
import pytest
from .circuit_testkit import build, run

from veil.circuits.builder import (Builder, const_bits, shift_left, shift_right, sign_extend,
                                   truncate, zero_extend)
from veil.circuits.circuit import Circuit, CircuitError
from veil.circuits.evaluate import evaluate
from veil.circuits.gates import Gate, Op
from veil.circuits.linear import linearise


def test_gate_is_frozen_and_hashable():
    g = Gate(Op.AND, (1, 2))
    with pytest.raises(AttributeError):
        g.op = Op.XOR  # type: ignore[misc]
    assert {g, Gate(Op.AND, (1, 2))} == {g}
    assert Gate(Op.INPUT).args == ()


def test_builder_emits_exactly_what_is_asked():
    b = Builder()
    x, y = b.input("x", 1)[0], b.input("y", 1)[0]
    assert b.const(0) == b.const(0) and b.const(1) == b.const(True) != b.const(0)
    b.and_(x, b.const(1))   # no folding
    b.xor(x, y), b.xor(x, y)  # no hashing
    b.or_(x, y)
    b.output("z", [x])
    c = b.build()
    assert c.counts() == {"AND": 2, "XOR": 4, "NOT": 0, "wires": 10, "and_depth": 0}
    assert c.input_widths() == {"x": 1, "y": 1} and c.output_widths() == {"z": 1}


def test_counts_and_depth_follow_output_paths():
    b = Builder()
    x = b.input("x", 3)
    a1 = b.and_(x[0], x[1])
    a2 = b.and_(a1, b.xor(x[2], a1))
    b.and_(a2, a2)  # dead: does not count towards depth
    b.output("z", [b.not_(a2), x[0]])
    c = b.build()
    assert c.counts()["and_depth"] == 2 and c.counts()["AND"] == 3


def test_builder_rejects_misuse():
    b = Builder()
    b.input("x", 2)
    with pytest.raises(CircuitError):
        b.input("x", 1)
    with pytest.raises(CircuitError):
        b.and_(0, 99)
    b.output("z", [0])
    with pytest.raises(CircuitError):
        b.output("z", [1])


def _ok_circuit() -> Circuit:
    b = Builder()
    x = b.input("x", 2)
    b.output("z", [b.and_(x[0], x[1])])
    return b.build()


def _broken(mutate) -> Circuit:
    c = _ok_circuit()
    mutate(c)
    return c


@pytest.mark.parametrize("mutate,message", [
    (lambda c: c.graph.add_edge(2, 0), "edges"),                       # edge not matching args
    (lambda c: (c.graph.add_edge(2, 0), nx.set_node_attributes(
        c.graph, {0: Gate(Op.NOT, (2,))}, "gate")), "cycle"),           # a real cycle
    (lambda c: nx.set_node_attributes(c.graph, {2: Gate(Op.AND, (0,))}, "gate"), "operands"),
    (lambda c: nx.set_node_attributes(c.graph, {2: Gate(Op.NOT, (0, 1))}, "gate"), "operands"),
    (lambda c: nx.set_node_attributes(c.graph, {2: Gate(Op.AND, (0, 7))}, "gate"), "exist"),
    (lambda c: c.graph.add_node(9, gate=Gate(Op.INPUT)), "no input bus"),
    (lambda c: c.inputs.update(y=[0]), "already used"),
    (lambda c: c.inputs.update(y=[2]), "not an INPUT"),
    (lambda c: c.outputs.update(w=[42]), "does not exist"),
    (lambda c: c.graph.add_node(5), "no Gate"),
])
def test_verify_catches_broken_graphs(mutate, message):
    _ok_circuit().verify()
    with pytest.raises(CircuitError, match=message):
        _broken(mutate).verify()


def test_circuit_error_is_a_veil_error_not_a_value_error():
    from veil.util import errors
    assert CircuitError is errors.CircuitError and issubclass(CircuitError, errors.VeilError)
    assert not issubclass(CircuitError, ValueError)


def test_outputs_may_be_inputs_constants_and_repeat():
    b = Builder()
    x = b.input("x", 2)
    b.output("z", [x[1], b.const(1), x[1], b.const(0)])
    z = evaluate(linearise(b.build()), {"x": [0, 1, 2, 3]})["z"]
    assert list(z) == [2, 2, 7, 7]


@pytest.mark.parametrize("value,width", [(5, 4), (-3, 4), (0, 3), (255, 8), (-1, 7), (9, 2)])
def test_const_bits_is_twos_complement(value, width):
    c = build(lambda b, x: const_bits(b, value, width), 1)
    assert run(c, [0])[0] == value % (1 << width)


def test_extend_shift_truncate_are_pure_wiring():
    b = Builder()
    x = b.input("x", 4)
    n = len(b.build().graph)
    assert sign_extend(x, 6) == x + [x[3], x[3]]
    assert zero_extend(b, x, 6)[:4] == x and truncate(x, 2) == x[:2]
    assert shift_right(x, 1, signed=True) == x[1:] and shift_right(x, 9, signed=True) == [x[3]]
    assert shift_right(x, 9, signed=False) == [] and shift_left(b, x, 2)[2:] == x
    assert len(b.build().graph) == n + 1  # only the shared CONST0 appeared
    for bad in (lambda: sign_extend(x, 3), lambda: truncate(x, 5), lambda: zero_extend(b, x, 2),
                lambda: shift_right(x, -1, False), lambda: shift_left(b, x, -1)):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("signed", [False, True])
def test_wiring_helpers_compute_values(signed):
    lo, hi = (-8, 8) if signed else (0, 16)
    xs = np.arange(lo, hi)
    ext = sign_extend if signed else None
    c = build(lambda b, x: ext(x, 7) if ext else zero_extend(b, x, 7), 4)
    assert np.array_equal(run(c, xs, signed_out=signed), xs)
    for k in range(6):
        c = build(lambda b, x: shift_right(x, k, signed), 4)
        got = run(c, xs, signed_out=signed) if c.output_widths()["z"] else np.zeros_like(xs)
        assert np.array_equal(got, xs >> k)
    c = build(lambda b, x: shift_left(b, x, 3), 4)
    assert np.array_equal(run(c, xs, signed_out=signed), xs * 8)
