"""selected_sum against Python integers: every input and every selector, exhaustively for
small buses, with coefficients drawn by hypothesis; and what its sharing saves."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits.builder import Builder
from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.multiply import linear_combination
from veil.circuits.mux import mux
from veil.circuits.selected import binary_digits, selected_sum


def selected_circuit(widths, coeffs, constants, width):
    """Inputs x0, x1, .. and 'hot', the one-hot selectors (value 1 << k selects k)."""
    b = Builder()
    xs = [b.input(f"x{i}", w) for i, w in enumerate(widths)]
    hot = b.input("hot", len(constants))
    terms = [(x, [c[i] for c in coeffs]) for i, x in enumerate(xs)]
    b.output("z", selected_sum(b, hot, terms, constants, width))
    return b.build()


def expected(xs, k, coeffs, constants, width):
    total = sum(c * x for c, x in zip(coeffs[k], xs)) + constants[k]
    return total % (1 << width)


coefficient = st.integers(-300, 300)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), n_sel=st.integers(1, 3), widths=st.lists(st.integers(1, 4), min_size=1, max_size=2))
def test_every_input_and_selector(data, n_sel, widths):
    coeffs = [data.draw(st.lists(coefficient, min_size=len(widths), max_size=len(widths)))
              for _ in range(n_sel)]
    if data.draw(st.booleans()):                        # shared digits are the interesting case
        coeffs[-1] = list(coeffs[0])
    constants = data.draw(st.lists(st.integers(-5000, 5000), min_size=n_sel, max_size=n_sel))
    width = data.draw(st.integers(1, 14))
    c = linearise(selected_circuit(widths, coeffs, constants, width))
    grids = np.meshgrid(*[np.arange(1 << w) for w in widths], indexing="ij")
    xs = [g.ravel() for g in grids]
    for k in range(n_sel):
        got = evaluate(c, {**{f"x{i}": x for i, x in enumerate(xs)},
                           "hot": np.full(len(xs[0]), 1 << k)})["z"]
        want = [expected([int(x[i]) for x in xs], k, coeffs, constants, width)
                for i in range(len(xs[0]))]
        assert [int(v) for v in got] == want, (k, coeffs, constants, width)


def test_sharing_beats_a_sum_per_selector_and_a_multiplexer():
    """tanh*'s two segments in fix<10,8> with the offset b = a - 256 in the second: one
    selected sum against two column sums and a 17-bit multiplexer."""
    coeffs, constants = [[512, -139], [132, -43]], [2304, 104192]
    one = selected_circuit([9, 10], coeffs, constants, 17).counts()["AND"]
    b = Builder()
    x, p = b.input("x0", 9), b.input("x1", 10)
    s = b.input("s", 1)[0]
    sums = [linear_combination(b, [(x, c[0]), (p, c[1])], 17, k) for c, k in zip(coeffs, constants)]
    b.output("z", mux(b, s, sums[1], sums[0]))
    two = b.build().counts()["AND"]
    assert one < two - 30, (one, two)


def test_mutually_exclusive_digits_share_a_column():
    """Coefficients 4 and 16 on a 4-bit x: the two gated copies overlap in two columns but
    are never both nonzero, so the sum costs the gating ANDs (one copy; the other is x xor
    it) and no adder. Equal coefficients: one ungated copy, no gate at all."""
    assert selected_circuit([4], [[1], [1]], [0, 0], 6).counts()["AND"] == 0
    assert selected_circuit([4], [[4], [16]], [0, 0], 8).counts()["AND"] == 4


def test_binary_digits():
    for k in (0, 1, -1, 6, -139, 218, 512):
        assert sum(d << s for s, d in binary_digits(k)) == k


def test_one_coefficient_per_selector():
    b = Builder()
    x, s = b.input("x", 3), b.input("s", 2)
    with pytest.raises(ValueError):
        selected_sum(b, s, [(x, [1])], [0, 0], 5)
    with pytest.raises(ValueError):
        selected_sum(b, s, [(x, [1, 2])], [0], 5)
