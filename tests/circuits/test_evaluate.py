"""evaluate(): instance counts, integer conversions, wide buses, signedness,
errors, the bit transpose, and (slow) throughput."""
import time

import numpy as np
import pytest
from .circuit_testkit import build, run
from hypothesis import given, settings
from hypothesis import strategies as st

from veil.circuits import adders, bitslice, multiply
from veil.circuits.builder import Builder
from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise


def _identity(*widths: int):
    """Outputs o_i = input i, plus 'sum' of the first two buses (mod 2**width0)."""
    b = Builder()
    buses = [b.input(f"i{k}", w) for k, w in enumerate(widths)]
    for k, bits in enumerate(buses):
        b.output(f"o{k}", bits)
    return linearise(b.build())


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 127, 128, 1000])
def test_instance_counts(n):
    c = build(lambda b, x, y: adders.add(b, x, y), 12, 12)
    rng = np.random.default_rng(n)
    xs, ys = rng.integers(0, 4096, n), rng.integers(0, 4096, n)
    got = run(c, xs, ys)
    assert got.dtype == np.int64 and got.shape == (n,)
    assert np.array_equal(got, (xs + ys) % 4096)


def test_many_chunks(monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["veil.circuits.evaluate"], "_CHUNK_BYTES", 64)
    c = build(lambda b, x, y: multiply.mul(b, x, y, True), 5, 6)
    xs, ys = np.arange(-16, 16).repeat(64), np.tile(np.arange(-32, 32), 32)
    assert np.array_equal(run(c, xs, ys, signed_out=True), xs * ys)


@pytest.mark.parametrize("width", [1, 7, 63, 64, 65, 100, 128, 200])
def test_round_trip_of_integers(width):
    lin = _identity(width, 3)
    rng = np.random.default_rng(width)
    vals = [int(v) for v in rng.integers(0, 2**62, 70)]
    vals = [(v << max(0, width - 62)) ^ int(rng.integers(0, 2**30)) for v in vals]
    vals = [v % (1 << width) for v in vals] + [0, (1 << width) - 1]
    small = list(range(len(vals)))
    out = evaluate(lin, {"i0": vals, "i1": small}, signed_outputs=["o1"])
    assert [int(v) for v in out["o0"]] == vals
    assert out["o0"].dtype == (np.int64 if width <= 63 else object)
    assert [int(v) for v in out["o1"]] == [((v + 4) % 8) - 4 for v in small]
    signed = evaluate(lin, {"i0": vals, "i1": small}, signed_outputs=["o0"])["o0"]
    half = 1 << (width - 1)
    assert [int(v) for v in signed] == [v - (1 << width) if v >= half else v for v in vals]


@pytest.mark.parametrize("values", [
    [-1, -2, 5, 2**40, -(2**62)],                       # python ints incl. negatives
    np.array([-1, 3, -128, 127], dtype=np.int8),        # small numpy dtypes
    np.array([2**64 - 1, 0, 2**63], dtype=np.uint64),
    np.array([True, False, True]),
    [2**70 + 5, -(2**90) - 1, 3],                       # beyond 64 bits: object path
])
@pytest.mark.parametrize("width", [3, 20, 64, 70])
def test_inputs_are_taken_mod_2_to_the_width(values, width):
    lin = _identity(width)
    got = evaluate(lin, {"i0": values})["o0"]
    assert [int(v) for v in got] == [int(v) % (1 << width) for v in np.asarray(values).tolist()]


def test_zero_width_buses_and_no_gates():
    b = Builder()
    b.input("e", 0)
    x = b.input("x", 4)
    b.output("nothing", [])
    b.output("y", x)
    out = evaluate(linearise(b.build()), {"e": [0, 0, 0], "x": [1, 2, 3]})
    assert out["nothing"].tolist() == [0, 0, 0] and out["y"].tolist() == [1, 2, 3]


def test_errors():
    lin = _identity(4, 4)
    with pytest.raises(KeyError):
        evaluate(lin, {"i0": [1]})
    with pytest.raises(ValueError):
        evaluate(lin, {"i0": [1, 2], "i1": [1]})
    with pytest.raises(KeyError):
        evaluate(lin, {"i0": [1], "i1": [1]}, signed_outputs=["nope"])
    with pytest.raises(TypeError):
        evaluate(lin, {"i0": np.array([1.5]), "i1": [1]})
    with pytest.raises(ValueError):
        evaluate(lin, {"i0": np.zeros((2, 2), int), "i1": [1, 2]})


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=200), st.integers(1, 64))
def test_pack_unpack_inverse(values, nbits):
    limb = np.array(values, dtype=np.uint64)
    n_words = -(-len(values) // 64)
    rows = bitslice.pack(limb, nbits, n_words)
    assert rows.shape == (nbits, n_words)
    for r in range(nbits):  # row r, word j, bit t = bit r of value 64j + t
        for t, v in enumerate(values[:3]):
            assert (int(rows[r, t // 64]) >> (t % 64)) & 1 == (v >> r) & 1
    mask = (1 << nbits) - 1
    assert [int(v) for v in bitslice.unpack(rows, len(values))] == [v & mask for v in values]


def test_transpose64_is_an_involution_and_a_transpose():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2**63, (5, 64), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    t = bitslice.transpose64(a)
    for k, r, c in zip(rng.integers(0, 5, 300), rng.integers(0, 64, 300), rng.integers(0, 64, 300)):
        assert (int(t[k, c]) >> int(r)) & 1 == (int(a[k, r]) >> int(c)) & 1
    assert np.array_equal(bitslice.transpose64(t), a)


@pytest.mark.slow
def test_throughput_of_a_2000_gate_circuit():
    """About 2k gates on 1.6M instances should take on the order of a second."""
    b = Builder()
    x, y, z = b.input("x", 16), b.input("y", 16), b.input("z", 32)
    b.output("r", adders.add(b, multiply.mul(b, x, y, True), z, signed=True))
    lin = linearise(b.build())
    n = 1_600_000
    rng = np.random.default_rng(0)
    xs, ys = rng.integers(-2**15, 2**15, n), rng.integers(-2**15, 2**15, n)
    zs = rng.integers(-2**31, 2**31, n)
    t = time.perf_counter()
    r = evaluate(lin, {"x": xs, "y": ys, "z": zs}, signed_outputs=["r"])["r"]
    dt = time.perf_counter() - t
    assert np.array_equal(r, (xs * ys + zs + 2**31) % 2**32 - 2**31)
    print(f"{lin.gate_count} gates x {n} instances in {dt:.2f}s: "
          f"{lin.gate_count * n / dt:.2e} gate-instances/s")
    assert dt < 5.0
