"""Graphviz DOT export."""
from .circuit_testkit import build

from veil.circuits import adders
from veil.circuits.builder import Builder
from veil.circuits.dot import to_dot


def test_dot_lists_every_gate_edge_and_bus_bit():
    c = build(lambda b, x, y: adders.add(b, x, y), 2, 2)
    text = to_dot(c)
    assert text.startswith('digraph "circuit" {') and text.rstrip().endswith("}")
    for label in ("x0[0]", "x0[1]", "x1[0]", "x1[1]", "z[0]", "z[1]"):
        assert f'label="{label}"' in text
    assert text.count(" -> ") == c.graph.number_of_edges() + 2
    assert text.count('label="AND"') == c.counts()["AND"]


def test_dot_escapes_names_and_repeats_outputs():
    b = Builder()
    x = b.input('we"ird', 1)
    b.output("o", [x[0], x[0], b.const(1)])
    text = to_dot(b.build(), name="t")
    assert 'label="we\\"ird[0]"' in text
    assert text.count("doubleoctagon") == 3
