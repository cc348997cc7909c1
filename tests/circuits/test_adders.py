"""Adders and subtractors against Python integers: exhaustive for widths 1..8,
hypothesis up to 64 bits; exact AND counts."""
from functools import cache

import numpy as np
import pytest
from .circuit_testkit import build, domain, pairs, run, wrap
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits import adders

WIDTHS = range(1, 9)
BINARY = {
    "add": (lambda b, x, y, s: adders.add(b, x, y, signed=s), lambda x, y: x + y, 0),
    "add_carry": (lambda b, x, y, s: adders.add_with_carry(b, x, y, signed=s), lambda x, y: x + y, 1),
    "sub": (lambda b, x, y, s: adders.sub(b, x, y, signed=s), lambda x, y: x - y, 0),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", WIDTHS)
def test_binary_exhaustive(name, signed, w):
    fn, ref, extra = BINARY[name]
    c = build(lambda b, x, y: fn(b, x, y, signed), w, w)
    xs, ys = pairs(w, signed)
    assert np.array_equal(run(c, xs, ys, signed_out=signed), wrap(ref(xs, ys), w + extra, signed))


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", [1, 3, 6])
def test_carry_in_and_mixed_widths(signed, w):
    """x (w bits) + y (w+2 bits, extended per signedness) + cin, into w+1 bits."""
    c = build(lambda b, x, y, ci: adders.add(b, x, y, cin=ci[0], width=w + 1, signed=signed), w, w + 2, 1)
    xs, ys = pairs(w, signed, w + 2)
    for cin in (0, 1):
        got = run(c, xs, ys, np.full(len(xs), cin), signed_out=signed)
        assert np.array_equal(got, wrap(xs + ys + cin, w + 1, signed))


@pytest.mark.parametrize("w", WIDTHS)
def test_unary_exhaustive(w):
    xs = domain(w, True)
    assert np.array_equal(run(build(adders.negate, w), xs, signed_out=True), wrap(-xs, w, True))
    assert np.array_equal(run(build(adders.abs_signed, w), xs), np.abs(xs))  # read unsigned
    c = build(lambda b, x, s: adders.cond_negate(b, x, s[0]), w, 1)
    for s in (0, 1):
        got = run(c, xs, np.full(len(xs), s), signed_out=True)
        assert np.array_equal(got, wrap(-xs if s else xs, w, True))


@pytest.mark.parametrize("w", WIDTHS)
def test_add_const_exhaustive(w):
    xs = domain(w, False)
    for k in {0, 1, 2, 3, 5, (1 << w) - 1, 1 << w, -1, -3, 77}:
        c = build(lambda b, x: adders.add_const(b, x, k), w)
        assert np.array_equal(run(c, xs), wrap(xs + k, w, False)), k
        c = build(lambda b, x: adders.add_const(b, x, k, width=w + 2, signed=True), w)
        assert np.array_equal(run(c, xs - (1 << w - 1)), wrap(xs - (1 << w - 1) + k, w + 2, False))


@pytest.mark.parametrize("w", [1, 2, 8, 16, 32])
def test_and_counts(w):
    """w-bit add / sub mod 2**w: w-1 ANDs (no top carry); with carry out: w;
    negate: w-2 (an increment of ~x); cond_negate: w-1."""
    def ands(fn, *ws):
        return build(fn, *ws).counts()["AND"]
    assert ands(adders.add, w, w) == w - 1
    assert ands(lambda b, x, y, c: adders.add(b, x, y, cin=c[0]), w, w, 1) == w - 1
    assert ands(adders.add_with_carry, w, w) == w
    assert ands(lambda b, x, y: adders.add_with_carry(b, x, y, signed=True), w, w) == w
    assert ands(adders.sub, w, w) == w - 1
    assert ands(adders.negate, w) == max(w - 2, 0)
    assert ands(lambda b, x, s: adders.cond_negate(b, x, s[0]), w, 1) == w - 1


def test_add_const_skips_low_zero_bits():
    """Bits below (and at) the lowest set bit of k cost nothing."""
    c = build(lambda b, x: adders.add_const(b, x, 0b1000), 8)
    assert c.counts()["AND"] == 8 - 1 - 4  # carries into bits 5..7 only
    assert build(lambda b, x: adders.add_const(b, x, 0), 8).counts()["AND"] == 0


@cache
def _wide(name: str, w: int, signed: bool):
    fn, _, _ = BINARY[name]
    return build(lambda b, x, y: fn(b, x, y, signed), w, w)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(BINARY)), w=st.sampled_from([9, 13, 31, 32, 33, 63, 64]),
       signed=st.booleans(), data=st.data())
def test_binary_wide(name, w, signed, data):
    lo, hi = (-(1 << w - 1), (1 << w - 1) - 1) if signed else (0, (1 << w) - 1)
    xs = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=40))
    ys = data.draw(st.lists(st.integers(lo, hi), min_size=len(xs), max_size=len(xs)))
    _, ref, extra = BINARY[name]
    got = run(_wide(name, w, signed), np.array(xs, dtype=object), np.array(ys, dtype=object),
              signed_out=signed)
    assert [int(v) for v in got] == [wrap(ref(x, y), w + extra, signed) for x, y in zip(xs, ys)]


@settings(max_examples=30, deadline=None)
@given(w=st.integers(1, 64), k=st.integers(-(1 << 66), 1 << 66), data=st.data())
def test_unary_and_const_wide(w, k, data):
    xs = data.draw(st.lists(st.integers(-(1 << w - 1), (1 << w - 1) - 1), min_size=1, max_size=20))
    s = data.draw(st.lists(st.integers(0, 1), min_size=len(xs), max_size=len(xs)))
    x_arr, s_arr = np.array(xs, dtype=object), np.array(s)
    as_ints = lambda got: [int(v) for v in got]  # noqa: E731
    assert as_ints(run(build(adders.negate, w), x_arr, signed_out=True)) == [wrap(-x, w, True) for x in xs]
    assert as_ints(run(build(adders.abs_signed, w), x_arr)) == [abs(x) for x in xs]
    c = build(lambda b, x, t: adders.cond_negate(b, x, t[0]), w, 1)
    assert as_ints(run(c, x_arr, s_arr, signed_out=True)) == [
        wrap(-x if t else x, w, True) for x, t in zip(xs, s)]
    c = build(lambda b, x: adders.add_const(b, x, k, width=w + 1, signed=True), w)
    assert as_ints(run(c, x_arr, signed_out=True)) == [wrap(x + k, w + 1, True) for x in xs]
