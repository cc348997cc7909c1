"""le_const_within against Python on every value of its set (hypothesis draws the width,
the constant and the set), never dearer than the exact comparator, and the gate it saves
in the activation's segment test."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits.builder import Builder
from veil.circuits.compare import le_const
from veil.circuits.evaluate import evaluate
from veil.circuits.gates import Op
from veil.circuits.linear import linearise
from veil.circuits.within import le_const_within


def within(width, k, values):
    b = Builder()
    x = b.input("x", width)
    b.output("le", [le_const_within(b, x, k, values)])
    return b


def ands_of_le_const(width, k):
    b = Builder()
    le_const(b, b.input("x", width), k)
    return b.count(Op.AND)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), width=st.integers(1, 8))
def test_right_on_its_set_and_never_dearer(data, width):
    k = data.draw(st.integers(-2, (1 << width) + 1))
    values = np.array(sorted(data.draw(st.sets(st.integers(0, (1 << width) - 1), max_size=40))),
                      dtype=np.int64)
    b = within(width, k, values)
    if len(values):
        got = evaluate(linearise(b.build()), {"x": values})["le"]
        assert [int(v) for v in got] == [int(v <= k) for v in values]
    assert b.count(Op.AND) <= ands_of_le_const(width, k)


def test_every_value_is_the_exact_comparator():
    """With no don't-cares it computes [x <= k] on every input, for every k of 6 bits."""
    xs = np.arange(64)
    for k in range(-1, 65):
        got = evaluate(linearise(within(6, k, xs).build()), {"x": xs})["le"]
        assert [int(v) for v in got] == [int(x <= k) for x in xs], k


def test_tanh_star_segment_test():
    """a <= 389 for the magnitudes 0..657 compact's polynomials serve: a_9 is only 1 above
    512, where the low bits are below 146, so the top bit costs nothing (7 ANDs against 8)."""
    assert within(10, 389, np.arange(658)).count(Op.AND) == 7
    assert ands_of_le_const(10, 389) == 8


def test_values_must_fit():
    with pytest.raises(ValueError):
        within(3, 2, np.array([8]))
