"""simplify_observed: random circuits and care sets (hypothesis), the outputs equal on every
input of the set and never more ANDs; an AND that only the observability argument removes."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits.builder import Builder
from veil.circuits.care import sweep_on_care
from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.observe import simplify_observed

from .test_care import random_circuit


@settings(max_examples=150, deadline=None)
@given(c=random_circuit(), care=st.sets(st.integers(0, 63), min_size=1, max_size=64))
def test_outputs_equal_on_the_care_set(c, care):
    values = np.array(sorted(care), dtype=np.int64)
    simple = simplify_observed(c, {"x": values})
    assert simple.input_widths() == c.input_widths()
    assert simple.output_widths() == c.output_widths()
    want = evaluate(linearise(c), {"x": values})["y"]
    got = evaluate(linearise(simple), {"x": values})["y"]
    assert np.array_equal(got, want)
    assert simple.counts()["AND"] <= c.counts()["AND"]


def test_an_and_not_observed_where_it_differs():
    """y = (x0 & x1) & x2 on {0, 1, 2, 3, 6, 7}: x0 & x1 is only observed where x2 = 1, and
    there x1 = 1, so it can be x0 (one AND left). Its own values there are no XOR of earlier
    wires, so sweep_on_care keeps both."""
    b = Builder()
    x = b.input("x", 3)
    b.output("y", [b.and_(b.and_(x[0], x[1]), x[2])])
    c = b.build()
    care = {"x": np.array([0, 1, 2, 3, 6, 7])}
    assert sweep_on_care(c, care).counts()["AND"] == 2
    simple = simplify_observed(c, care)
    assert simple.counts()["AND"] == 1
    got = evaluate(linearise(simple), {"x": care["x"]})["y"]
    assert [int(v) for v in got] == [0, 0, 0, 0, 0, 1]
