"""The built-in tanh* circuits on EVERY accumulator, and the squarer's promise audited.

The bare circuit reads the accumulator x only through its sign and o = ones >> (shift - 1)
(the rounded magnitude is (o + 1) >> 1): the test first shows, on the optimised circuit's
graph, that no output depends on x's shift - 1 low bits, then evaluates every value of the
other acc_bits - shift + 1 bits (low bits random), which is every input the circuit can
tell apart: 2^18 (tiny, layer 2) to 2^25 (compact, layer 1) values.

The masked circuit computes x = x' - r_c mod 2^acc_bits and then runs the same code on x, so
every x with random r_c (x' = x + r_c) and random r_u in [0, 2^(l_a + kappa)) reaches every
state the masked circuit's core can be in; hypothesis adds masks at the edges.

Everything between the accumulator and y is a block of its own (synthesis.magnitude_circuit,
inputs m's low bits and `above`), simplified on all its inputs; test_magnitude_block.py
evaluates it on every one of them. Here: on every accumulator (bare) and under random masks
its inputs are the table's. Inside it, the polynomials (polynomial_circuit) are built for
the magnitudes a <= T[-1], their squarer with a promise (never(S): the bits S of its
operand b are never all 1): on every such magnitude, b (an extra output) is a - o_k for
a's segment and holds none of the promised patterns, and y is the table's. A test shows
this audit catches a false promise.
"""
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise
from veil.compiler import piecewise, synthesis
from veil.compiler.synthesis import (activation_circuit, join_masked, low_width,
                                     masked_activation_circuit)

from .tanh_star_reference import tanh_star_int
from .test_synthesis_tanh_star import CATALOG, catalog_table

KAPPA = 40
FAST = ["tiny1", "tiny2"]          # 2^20 and 2^18 inputs: a few seconds
SLOW = ["compact1", "compact2"]    # 2^25 and 2^24 inputs: about 30 and 15 s each
EVERY = FAST + [pytest.param(n, marks=pytest.mark.slow) for n in SLOW]


def every_distinct_accumulator(t, rng):
    """Every value of x's bits shift - 1 .. acc_bits - 1, the low bits random, as signed x."""
    low = max(t.shift - 1, 0)
    hi = np.arange(1 << (t.acc_bits - low), dtype=np.int64)
    xs = (hi << low) | rng.integers(0, 1 << low, len(hi)) if low else hi
    return np.where(xs >= 1 << (t.acc_bits - 1), xs - (1 << t.acc_bits), xs)


def magnitude(t, xs):
    ones = np.where(xs < 0, -xs - 1, xs)
    return (ones + (1 << (t.shift - 1))) >> t.shift if t.shift else ones


@pytest.mark.parametrize("name", CATALOG)
def test_bare_circuit_ignores_the_bits_below_the_rounding(name):
    t = catalog_table(name)
    c = optimise(activation_circuit(t))
    live = c.live()
    assert not live & set(c.inputs["x"][:t.shift - 1])
    assert set(c.inputs["x"][t.shift - 1:]) <= live


@pytest.mark.parametrize("name", EVERY)
def test_bare_every_accumulator(name):
    t = catalog_table(name)
    xs = every_distinct_accumulator(t, np.random.default_rng(1))
    lin = linearise(optimise(activation_circuit(t)))
    got = evaluate(lin, {"x": xs}, signed_outputs=("t",))["t"]
    assert np.array_equal(np.asarray(got, np.int64), t.reference(xs))


@pytest.mark.parametrize("name", CATALOG)
def test_table_is_the_independent_tanh_star_at_every_magnitude(name):
    """t.reference depends on x only through the sign and the rounded magnitude a; at every
    a up to two past saturation and both signs it equals tanh_star_reference."""
    t = catalog_table(name)
    a = np.arange(t.thresholds[-1] + 3, dtype=np.int64)
    xs = np.concatenate([a << t.shift, -(a << t.shift) - 1])
    assert np.array_equal(magnitude(t, xs), np.concatenate([a, a]))
    want = [tanh_star_int(int(x), t.acc_frac, 8, 9) for x in xs]
    assert [int(v) for v in t.reference(xs)] == want


@lru_cache(maxsize=None)
def masked_linearised(name):
    return linearise(optimise(masked_activation_circuit(catalog_table(name), KAPPA)))


def masked_eval(name, x, r_c, r_u):
    t, acc = catalog_table(name), catalog_table(name).acc_bits
    out = evaluate(masked_linearised(name),
                   {"x_masked": (x + r_c) % (1 << acc), "r_c": r_c % (1 << acc),
                    "r_lo": r_u % (1 << low_width(t))})
    return np.asarray(join_masked(t, KAPPA, out, r_u), np.int64)


def masked_want(t, x, r_u):
    return (t.reference(x) + r_u) % (1 << (t.out_format.total + KAPPA + 1))


@pytest.mark.parametrize("name", EVERY)
def test_masked_every_accumulator_random_masks(name):
    t = catalog_table(name)
    rng = np.random.default_rng(2)
    x = every_distinct_accumulator(t, rng)
    r_c = rng.integers(0, 1 << t.acc_bits, len(x))
    r_u = rng.integers(0, 1 << (t.out_format.total + KAPPA), len(x))
    assert np.array_equal(masked_eval(name, x, r_c, r_u), masked_want(t, x, r_u))


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(CATALOG)), data=st.data())
def test_masked_masks_at_the_edges(name, data):
    """Masks and accumulators anywhere, the extremes (0, all ones) as likely as the rest."""
    t = catalog_table(name)
    w_ru = t.out_format.total + KAPPA

    def edgy(bits, signed=False):
        lo, hi = (-(1 << bits - 1), (1 << bits - 1) - 1) if signed else (0, (1 << bits) - 1)
        return st.one_of(st.sampled_from([lo, hi, 0, -1 if signed else 1]), st.integers(lo, hi))
    triples = data.draw(st.lists(st.tuples(edgy(t.acc_bits, True), edgy(t.acc_bits), edgy(w_ru)),
                                 min_size=1, max_size=64))
    x, r_c, r_u = (np.array(v, np.int64) for v in zip(*triples))
    assert np.array_equal(masked_eval(name, x, r_c, r_u), masked_want(t, x, r_u))


@contextmanager
def probed_squarer(t):
    """piecewise.polynomial_circuit(t) built inside outputs the squarer's operand as bus
    'probe_b'; yields the promised patterns (the S for which never(S) said True)."""
    piecewise.choose_offsets(t)        # cached: the candidates are not built under the probe
    piecewise.polynomial_circuit.cache_clear()
    promised: set[frozenset[int]] = set()
    square = piecewise.square

    def probe(b, x, *args, never=None, **kwargs):
        b.output("probe_b", x)

        def recording(s):
            if never(s):
                promised.add(s)
                return True
            return False
        return square(b, x, *args, never=None if never is None else recording, **kwargs)
    piecewise.square = probe
    try:
        yield promised
    finally:
        piecewise.square = square
        piecewise.polynomial_circuit.cache_clear()


def check_block(t, c, promised):
    """On every magnitude a <= T[-1]: the squarer's operand is a - o_k for a's segment and
    has no promised pattern, and y is the table's."""
    assert promised, "the squarer was promised nothing: the audit audits nothing"
    a = np.arange(t.thresholds[-1] + 1, dtype=np.int64)
    out = evaluate(linearise(c), {"a": a})
    b = np.asarray(out["probe_b"], np.int64)
    seg = np.searchsorted(np.array(t.thresholds), a)           # first k with a <= T[k]
    assert np.array_equal(b, a - np.array(piecewise.choose_offsets(t))[seg])
    for s in promised:
        m = sum(1 << i for i in s)
        assert not np.any(b & m == m), sorted(s)
    y = np.asarray(out["y"], np.int64)
    assert np.array_equal(y, t.magnitude_values(a) % (1 << len(c.outputs["y"])))


@pytest.mark.parametrize("name", CATALOG)
def test_squarer_promise_holds_on_every_magnitude(name):
    t = catalog_table(name)
    with probed_squarer(t) as promised:
        c = piecewise.polynomial_circuit(t)
    check_block(t, c, promised)


@contextmanager
def probed_magnitude():
    """Circuits built inside output the magnitude block's inputs: m's low bits and `above`."""
    sign_and_magnitude = synthesis._sign_and_magnitude

    def probe(b, t, x):
        s, low, above = sign_and_magnitude(b, t, x)
        b.output("probe_m", low)
        b.output("probe_above", [above])
        return s, low, above
    synthesis._sign_and_magnitude = probe
    try:
        yield
    finally:
        synthesis._sign_and_magnitude = sign_and_magnitude


def check_magnitude(t, xs, out):
    """The magnitude block reads m's low bits and whether m has a bit above them, for the
    table's m = ones >> (shift - 1) (or ones); test_magnitude_block holds the block to the
    table on every one of its inputs."""
    ones = np.where(xs < 0, -xs - 1, xs)
    m = ones >> (t.shift - 1) if t.shift else ones
    n = synthesis.low_bits(t)
    assert np.array_equal(np.asarray(out["probe_m"], np.int64), m & ((1 << n) - 1))
    assert np.array_equal(np.asarray(out["probe_above"], np.int64), (m >> n != 0).astype(np.int64))


@pytest.mark.parametrize("name", EVERY)
def test_magnitude_block_reads_m_on_every_accumulator(name):
    t = catalog_table(name)
    with probed_magnitude():
        c = activation_circuit(t)
    xs = every_distinct_accumulator(t, np.random.default_rng(3))
    check_magnitude(t, xs, evaluate(linearise(c), {"x": xs}))


@pytest.mark.parametrize("name", CATALOG)
def test_magnitude_block_reads_m_under_random_masks(name):
    t = catalog_table(name)
    with probed_magnitude():
        c = masked_activation_circuit(t, KAPPA)
    rng = np.random.default_rng(4)
    a = np.arange(t.thresholds[-1] + 3, dtype=np.int64)
    ones = (a << t.shift) - (1 << t.shift - 1) + rng.integers(0, 1 << t.shift, (8, len(a)))
    ones = ones.ravel()[ones.ravel() >= 0]
    half = 1 << t.acc_bits - 1
    x = np.concatenate([ones, -ones - 1, rng.integers(-half, half, 20000)])
    r_c = rng.integers(0, 1 << t.acc_bits, len(x))
    r_lo = rng.integers(0, 1 << low_width(t), len(x))
    masked = (x + r_c) % (1 << t.acc_bits)
    check_magnitude(t, x, evaluate(linearise(c), {"x_masked": masked, "r_c": r_c, "r_lo": r_lo}))


def test_the_audit_catches_a_false_promise(monkeypatch):
    """A squarer promised that b's two low bits are never both 1 (false: b = 3 occurs):
    check_block must say so."""
    t = catalog_table("tiny2")
    honest = piecewise._never

    def lying(values, width):
        never = honest(values, width)
        return lambda s: s == frozenset([0, 1]) or never(s)
    with probed_squarer(t) as promised:
        monkeypatch.setattr(piecewise, "_never", lying)
        c = piecewise.polynomial_circuit(t)
    assert frozenset([0, 1]) in promised
    with pytest.raises(AssertionError, match=r"\[0, 1\]"):
        check_block(t, c, promised)
