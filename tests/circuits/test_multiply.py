"""Multipliers against Python integers (exhaustive to 8 bits, hypothesis to 64x64) and
their AND counts."""
from functools import cache

import numpy as np
import pytest
from .circuit_testkit import build, domain, pairs, run, wrap
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits import multiply


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", range(1, 9))
def test_mul_exhaustive(signed, w):
    xs, ys = pairs(w, signed)
    c = build(lambda b, x, y: multiply.mul(b, x, y, signed), w, w)
    assert c.output_widths()["z"] == 2 * w
    assert np.array_equal(run(c, xs, ys, signed_out=signed), xs * ys)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("n,m", [(1, 5), (5, 1), (3, 6), (7, 2)])
def test_mul_shapes_and_widths(signed, n, m):
    """Unequal operand widths, truncated and widened results."""
    xs, ys = pairs(n, signed, m)
    for width in (1, n, n + m - 1, n + m, n + m + 3):
        c = build(lambda b, x, y: multiply.mul(b, x, y, signed, width), n, m)
        assert np.array_equal(run(c, xs, ys, signed_out=signed), wrap(xs * ys, width, signed)), width


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", range(1, 9))
def test_square_exhaustive(signed, w):
    xs = domain(w, signed)
    for width in (None, w, 2 * w + 2):
        c = build(lambda b, x: multiply.square(b, x, signed, width), w)
        got = run(c, xs)  # a square is never negative: read unsigned
        assert np.array_equal(got, wrap(xs * xs, width or 2 * w, False))


KS = [0, 1, -1, 2, 3, -3, 5, 7, -8, 11, 45, -77, 127, 255, 256, -1000, 12345, -(1 << 20) + 1]


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", range(1, 9))
def test_mul_const_exhaustive(signed, w):
    xs = domain(w, signed)
    for k in KS:
        c = build(lambda b, x: multiply.mul_const(b, x, k, signed), w)
        exact_signed = signed or k < 0
        assert np.array_equal(run(c, xs, signed_out=exact_signed), xs * k), k
        c = build(lambda b, x: multiply.mul_const(b, x, k, signed, width=w), w)
        assert np.array_equal(run(c, xs), wrap(xs * k, w, False)), k


@pytest.mark.parametrize("signed", [False, True])
def test_linear_combination(signed):
    xs, ys = pairs(5, signed, 4)
    terms = [(13, -6), (0, 9), (-7, 1), (1, 1)]
    for kx, ky in terms:
        for const in (0, 5, -100):
            c = build(lambda b, x, y: multiply.linear_combination(
                b, [(x, kx), (y, ky)], 14, const, signed), 5, 4)
            assert np.array_equal(run(c, xs, ys, signed_out=True), kx * xs + ky * ys + const)


def test_linear_combination_beats_separate_products():
    from veil.circuits.adders import add
    one = build(lambda b, x, y: multiply.linear_combination(b, [(x, 6988), (y, -1389)], 28), 14, 15)
    two = build(lambda b, x, y: add(b, multiply.mul_const(b, x, 6988, width=28),
                                    multiply.mul_const(b, y, -1389, width=28)), 14, 15)
    assert one.counts()["AND"] < two.counts()["AND"]


@given(st.integers(-(1 << 80), 1 << 80))
def test_naf_is_canonical(k):
    digits = multiply.naf(k)
    assert sum(d << s for s, d in digits) == k
    shifts = [s for s, _ in digits]
    assert all(b - a >= 2 for a, b in zip(shifts, shifts[1:]))  # no two adjacent nonzero digits
    assert len(digits) <= bin(abs(k)).count("1")


@pytest.mark.parametrize("w", [8, 16, 32])
def test_mul_and_square_and_counts(w):
    for signed in (False, True):
        mul = build(lambda b, x, y: multiply.mul(b, x, y, signed), w, w).counts()["AND"]
        assert mul == w * w + w * (w - 1)
        mxx = build(lambda b, x: multiply.mul(b, x, x, signed), w).counts()["AND"]
        sq = build(lambda b, x: multiply.square(b, x, signed), w).counts()["AND"]
        assert sq <= w * (w - 1)  # n(n-1)/2 partial products + at most as many adders
        assert sq < 0.55 * mxx
    trunc = build(lambda b, x, y: multiply.mul(b, x, y, width=w), w, w).counts()["AND"]
    # mod 2**w: only the w(w+1)/2 products of weight < w, and (w-1)(w-2)/2 adders
    assert trunc == w * (w + 1) // 2 + (w - 1) * (w - 2) // 2


@pytest.mark.parametrize("hi", [2, 5, 11, 100, 160, 200, 255, 389, 401, 657, 1000])
def test_square_on_a_promised_range(hi):
    """`never`: on x in [0, hi] (exhaustive), products that cannot be 1 are not built and
    products that cannot be 1 together share an XOR; the square stays exact there."""
    w = hi.bit_length()
    xs = np.arange(hi + 1)
    bits = [(xs >> i & 1).astype(bool) for i in range(w)]

    def never(s):
        return not np.logical_and.reduce([bits[i] for i in s]).any()

    c = build(lambda b, x: multiply.square(b, x, never=never), w)
    full = build(lambda b, x: multiply.square(b, x), w)
    assert c.counts()["AND"] <= full.counts()["AND"]
    if hi + 1 < 1 << w - 1 | 1 << w - 2:        # the two top bits are never both set
        assert c.counts()["AND"] < full.counts()["AND"]
    assert np.array_equal(run(c, xs), xs * xs)


def test_mul_const_is_cheap():
    """A power of two is wiring; a few signed digits cost a few adders."""
    assert build(lambda b, x: multiply.mul_const(b, x, 64), 16).counts()["AND"] == 0
    assert build(lambda b, x: multiply.mul_const(b, x, 0), 16).counts()["AND"] == 0
    gen = build(lambda b, x, y: multiply.mul(b, x, y), 16, 16).counts()["AND"]
    for k in (255, 12345, -4450):
        assert build(lambda b, x: multiply.mul_const(b, x, k, width=32), 16).counts()["AND"] < gen / 4


@cache
def _mul(kind: str, w: int, signed: bool):
    if kind == "square":
        return build(lambda b, x, y: multiply.square(b, x, signed), w, w)
    return build(lambda b, x, y: multiply.mul(b, x, y, signed), w, w)


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(["mul", "square"]), w=st.sampled_from([10, 31, 32, 33, 64]),
       signed=st.booleans(), data=st.data())
def test_wide_products(kind, w, signed, data):
    """Products up to 64x64 -> 128 bits, well past the int64 output path."""
    lo, hi = (-(1 << w - 1), (1 << w - 1) - 1) if signed else (0, (1 << w) - 1)
    edge = st.sampled_from([lo, hi, 0, 1, -1 if signed else hi - 1])
    xs = data.draw(st.lists(st.one_of(st.integers(lo, hi), edge), min_size=1, max_size=30))
    ys = data.draw(st.lists(st.one_of(st.integers(lo, hi), edge), min_size=len(xs), max_size=len(xs)))
    got = run(_mul(kind, w, signed), np.array(xs, dtype=object), np.array(ys, dtype=object),
              signed_out=signed and kind == "mul")
    want = [x * x if kind == "square" else x * y for x, y in zip(xs, ys)]
    assert [int(v) for v in got] == want


@settings(max_examples=30, deadline=None)
@given(w=st.integers(1, 64), k=st.integers(-(1 << 64), 1 << 64), signed=st.booleans(), data=st.data())
def test_mul_const_wide(w, k, signed, data):
    lo, hi = (-(1 << w - 1), (1 << w - 1) - 1) if signed else (0, (1 << w) - 1)
    xs = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=20))
    c = build(lambda b, x: multiply.mul_const(b, x, k, signed), w)
    got = run(c, np.array(xs, dtype=object), signed_out=signed or k < 0)
    assert [int(v) for v in got] == [x * k for x in xs]
