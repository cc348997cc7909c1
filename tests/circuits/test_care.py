"""sweep_on_care: random circuits and random care sets (hypothesis), equal to the original on
every input of the set and never more ANDs; the ANDs it removes in a small case
(tests/compiler/test_magnitude_block.py: what it and circuits.observe save in tanh*)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits.builder import Builder
from veil.circuits.care import sweep_on_care
from veil.circuits.evaluate import evaluate
from veil.circuits.gates import Op
from veil.circuits.linear import linearise


@st.composite
def random_circuit(draw):
    """Up to 40 random gates over a 6-bit input bus; 1-6 of the wires are outputs."""
    b = Builder()
    wires = b.input("x", 6) + [b.const(0), b.const(1)]
    for _ in range(draw(st.integers(1, 40))):
        op = draw(st.sampled_from([Op.AND, Op.AND, Op.XOR, Op.NOT]))
        u, v = (draw(st.sampled_from(wires)) for _ in range(2))
        wires.append(b.not_(u) if op is Op.NOT else b.and_(u, v) if op is Op.AND else b.xor(u, v))
    b.output("y", draw(st.lists(st.sampled_from(wires[6:]), min_size=1, max_size=6)))
    return b.build()


@settings(max_examples=150, deadline=None)
@given(c=random_circuit(), care=st.sets(st.integers(0, 63), min_size=1, max_size=64))
def test_equal_on_the_care_set(c, care):
    values = np.array(sorted(care), dtype=np.int64)
    swept = sweep_on_care(c, {"x": values})
    assert swept.input_widths() == c.input_widths()
    assert swept.output_widths() == c.output_widths()
    want = evaluate(linearise(c), {"x": values})["y"]
    got = evaluate(linearise(swept), {"x": values})["y"]
    assert np.array_equal(got, want)
    assert swept.counts()["AND"] <= c.counts()["AND"]


def and_circuit():
    b = Builder()
    x = b.input("x", 3)
    y = [b.and_(x[0], x[1]), b.and_(x[0], x[2])]
    b.output("y", y)
    return b.build()


def test_an_and_equal_to_an_earlier_xor_is_that_xor():
    """On {0, 3, 5, 7}: x0 x1 = x1 and x0 x2 = x2 (x0 is 1 whenever x1 or x2 is)."""
    c = and_circuit()
    swept = sweep_on_care(c, {"x": np.array([0, 3, 5, 7])})
    assert swept.counts()["AND"] == 0
    every = sweep_on_care(c, {"x": np.arange(8)})
    assert every.counts()["AND"] == 2

