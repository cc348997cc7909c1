"""Comparators and the multiplexer against Python integers; AND counts."""
import operator
from functools import cache

import numpy as np
import pytest
from .circuit_testkit import build, domain, pairs, run
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits import compare
from veil.circuits.mux import mux, mux_const

BUS = {"lt": (compare.lt, operator.lt), "le": (compare.le, operator.le),
       "gt": (compare.gt, operator.gt), "ge": (compare.ge, operator.ge),
       "eq": (compare.eq, operator.eq)}
CONST = {"lt": (compare.lt_const, operator.lt), "le": (compare.le_const, operator.le),
         "gt": (compare.gt_const, operator.gt), "ge": (compare.ge_const, operator.ge),
         "eq": (compare.eq_const, operator.eq)}


@pytest.mark.parametrize("name", BUS)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", range(1, 9))
def test_bus_comparators_exhaustive(name, signed, w):
    fn, ref = BUS[name]
    xs, ys = pairs(w, signed)
    got = run(build(lambda b, x, y: fn(b, x, y, signed), w, w), xs, ys)
    assert np.array_equal(got, ref(xs, ys).astype(np.int64))


@pytest.mark.parametrize("signed", [False, True])
def test_bus_comparators_mixed_widths(signed):
    xs, ys = pairs(3, signed, 6)
    for name, (fn, ref) in BUS.items():
        got = run(build(lambda b, x, y: fn(b, x, y, signed), 3, 6), xs, ys)
        assert np.array_equal(got, ref(xs, ys).astype(np.int64)), name


@pytest.mark.parametrize("name", CONST)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("w", range(1, 7))
def test_const_comparators_exhaustive(name, signed, w):
    """Every constant in range and a margin beyond it on both sides."""
    fn, ref = CONST[name]
    xs = domain(w, signed)
    for k in range(int(xs[0]) - 3, int(xs[-1]) + 4):
        got = run(build(lambda b, x: fn(b, x, k, signed), w), xs)
        assert np.array_equal(got, ref(xs, k).astype(np.int64)), k


@pytest.mark.parametrize("w", [8, 16, 32])
def test_comparator_and_counts(w):
    def ands(fn, *ws):
        return build(fn, *ws).counts()["AND"]
    for signed in (False, True):
        for name in ("lt", "le", "gt", "ge"):
            assert ands(lambda b, x, y: BUS[name][0](b, x, y, signed), w, w) == w
        assert ands(lambda b, x, y: compare.eq(b, x, y, signed), w, w) == w - 1
    # against a constant: the trailing zeros of k and its lowest set bit are free
    assert ands(lambda b, x: compare.lt_const(b, x, 1 << 4), w) == w - 1 - 4
    assert ands(lambda b, x: compare.lt_const(b, x, 1 << (w - 1)), w) == 0  # just ~msb
    assert ands(lambda b, x: compare.lt_const(b, x, 0), w) == 0
    assert ands(lambda b, x: compare.eq_const(b, x, 12345 % (1 << w)), w) == w - 1
    assert ands(lambda b, x: compare.eq_const(b, x, 1 << w), w) == 0


@cache
def _cmp(name: str, w: int, signed: bool):
    return build(lambda b, x, y: BUS[name][0](b, x, y, signed), w, w)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(BUS)), w=st.sampled_from([12, 33, 63, 64]),
       signed=st.booleans(), data=st.data())
def test_bus_comparators_wide(name, w, signed, data):
    lo, hi = (-(1 << w - 1), (1 << w - 1) - 1) if signed else (0, (1 << w) - 1)
    xs = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=30))
    ys = [data.draw(st.one_of(st.just(x), st.integers(lo, hi))) for x in xs]  # ties too
    got = run(_cmp(name, w, signed), np.array(xs, dtype=object), np.array(ys, dtype=object))
    assert list(got) == [int(BUS[name][1](x, y)) for x, y in zip(xs, ys)]


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(CONST)), w=st.integers(1, 64), signed=st.booleans(),
       k=st.integers(-(1 << 65), 1 << 65), data=st.data())
def test_const_comparators_wide(name, w, signed, k, data):
    lo, hi = (-(1 << w - 1), (1 << w - 1) - 1) if signed else (0, (1 << w) - 1)
    k = data.draw(st.one_of(st.just(k), st.integers(lo - 2, hi + 2)))
    xs = data.draw(st.lists(st.one_of(st.integers(lo, hi), st.integers(max(lo, k - 2), min(hi, k + 2))
                                      if max(lo, k - 2) <= min(hi, k + 2) else st.integers(lo, hi)),
                            min_size=1, max_size=20))
    got = run(build(lambda b, x: CONST[name][0](b, x, k, signed), w), np.array(xs, dtype=object))
    assert list(got) == [int(CONST[name][1](x, k)) for x in xs]


@pytest.mark.parametrize("w", range(1, 9))
def test_mux_exhaustive(w):
    c = build(lambda b, s, x, y: mux(b, s[0], x, y), 1, w, w)
    xs, ys = pairs(w, False)
    for s in (0, 1):
        got = run(c, np.full(len(xs), s), xs, ys)
        assert np.array_equal(got, ys if s else xs)


@pytest.mark.parametrize("w", [1, 8, 16, 32])
def test_mux_one_and_per_bit(w):
    assert build(lambda b, s, x, y: mux(b, s[0], x, y), 1, w, w).counts()["AND"] == w
    with pytest.raises(ValueError):
        build(lambda b, s, x, y: mux(b, s[0], x, y), 1, w, w + 1)


@pytest.mark.parametrize("k", [0, 1, 5, 10, 15, -1, -8])
def test_mux_const_exhaustive(k):
    """s ? k : x over every 4-bit x, one AND per bit at most; constant bits of x cost none."""
    c = build(lambda b, s, x: mux_const(b, s[0], x, k), 1, 4)
    xs, ss = pairs(4, False, 1)
    assert np.array_equal(run(c, ss, xs), np.where(ss == 1, k % 16, xs))
    assert c.counts()["AND"] <= 4
    half = build(lambda b, s, x: mux_const(b, s[0], x[:2] + [b.const(0), b.const(1)], k), 1, 4)
    assert half.counts()["AND"] <= 2
