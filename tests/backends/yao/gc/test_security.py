"""Attack-style checks of the garbling, under every scheme: fresh offsets and labels, what the
evaluator sees looks uniform and does not depend on the garbler's inputs, tweaks never repeat,
tampering breaks decoding, and all randomness comes from the OS CSPRNG. (Three-halves' own
control bits are attacked in test_three_halves.py.)"""
import dataclasses
import inspect
import pathlib
import pickle
import threading

import numpy as np
import pytest
from .garble_kit import SCHEMES, tanh_inputs, tiny_activation, two_party

import veil.backends.yao.gc as gc_pkg
from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import scratch as gc_scratch
from veil.backends.yao.gc import labels as L
from veil.backends.yao.gc.hash import TweakHash
from veil.backends.yao.gc.tweaks import tweak
from veil.backends.yao.gc.wire import gc_to_bytes
from veil.circuits.evaluate import evaluate as plain_evaluate

N = 2000
PER_GATE = {"half-gates": 2, "three-halves": 3}   # tweaks (hashed label pairs) per AND


@pytest.fixture(params=SCHEMES)
def scheme(request):
    return request.param


def _blocks(a: np.ndarray) -> np.ndarray:
    """Labels / ciphertexts as rows of two uint64 words."""
    return np.ascontiguousarray(a).view("<u8").reshape(-1, 2)


def _n_distinct(rows: np.ndarray) -> int:
    s = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    return 1 + int(np.count_nonzero(np.any(s[1:] != s[:-1], axis=1))) if len(s) else 0


def _within(freq: float, count: int, p: float = 0.5, sigmas: float = 6) -> bool:
    return abs(freq - p) < sigmas * np.sqrt(p * (1 - p) / count)


def test_offset_has_lsb_one_and_is_fresh_per_garbling():
    lin, _, _ = tiny_activation()
    deltas = [G.garble(lin, 3, k)[1].delta for k in range(20)]
    assert all(d[0] & 1 for d in deltas)
    assert _n_distinct(_blocks(np.stack(deltas))) == 20
    # the other 127 bits are not fixed: each takes both values over 20 garblings
    bits = np.unpackbits(np.stack(deltas), axis=1, bitorder="little")
    assert (bits[:, 1:].min(axis=0) == 0).sum() > 100 and (bits[:, 1:].max(axis=0) == 1).sum() > 100


def test_labels_are_distinct_across_wires_instances_and_garblings():
    lin, _, _ = tiny_activation()
    zeros = [G.garble(lin, 500, k)[1].zero_labels for k in range(2)]
    rows = np.concatenate([_blocks(z[k]) for z in zeros for k in z])
    assert _n_distinct(rows) == len(rows)


def test_the_two_labels_of_a_wire_have_opposite_colours():
    lin, _, _ = tiny_activation()
    zero, one = G.label_pairs(G.garble(lin, 100, 1)[1], "r_c")
    assert np.all(L.colour(zero) ^ L.colour(one) == 1)


def _evaluator_view(value_x: int, value_ru: int, scheme=None):
    """Tables and active labels the evaluator gets when the garbler's inputs are constant."""
    lin, _, _ = tiny_activation()
    inputs = tanh_inputs(N, seed=1)
    inputs["x_masked"][:] = value_x
    inputs["r_lo"][:] = value_ru
    _, gc, sec, labels = two_party(lin, inputs, evaluator_buses=("r_c",), scheme=scheme)
    return gc, sec, labels


def test_active_colour_bits_are_uniform_and_input_independent():
    lin, acc, l_a = tiny_activation()
    k = len(lin.inputs["r_lo"])
    views = [_evaluator_view(0, 0), _evaluator_view((1 << acc) - 1, (1 << k) - 1)]
    for gc, _, labels in views:
        for bus in ("x_masked", "r_lo"):
            c = L.colour(labels[bus])            # (width, N)
            assert _within(c.mean(), c.size), bus
            assert all(_within(row.mean(), N) for row in c), bus  # per wire, too
    # per wire, the two views' colour frequencies agree (two-sample test)
    for bus in ("x_masked", "r_lo"):
        c0, c1 = (L.colour(v[2][bus]).mean(axis=1) for v in views)
        assert np.all(np.abs(c0 - c1) < 6 * np.sqrt(0.5 / N)), bus


def _words(a: np.ndarray) -> np.ndarray:
    """Labels, ciphertexts or half-ciphertexts as their 64-bit words, sorted."""
    return np.sort(np.ascontiguousarray(a).view("<u8").reshape(-1))


def test_tables_look_uniform_and_hold_no_label(scheme):
    gc, sec, labels = _evaluator_view(12345, 1 << 20, scheme)
    ones = int(np.bitwise_count(gc.tables).sum())
    assert _within(ones / (8 * gc.tables.size), 8 * gc.tables.size)
    sample = gc.tables.reshape(-1, 16)[::7]          # every bit position, on a subsample
    per_position = np.unpackbits(sample, axis=1).mean(axis=0)
    assert all(_within(f, len(sample)) for f in per_position)
    for plane in gc.control:                         # three-halves' 5 control bits, each
        assert _within(plane.mean(), plane.size)
    # at the granularity of 64-bit words (three-halves sends half-labels): every active label
    # is one of the zero/one labels; no table word equals a half of any label or of R
    zero = np.concatenate([z.reshape(-1, 16) for z in sec.zero_labels.values()])
    secret = _words(np.concatenate([zero, zero ^ sec.delta, sec.delta[None]]))
    active = _words(np.concatenate([v.reshape(-1, 16) for v in labels.values()]))
    table = _words(gc.tables)
    assert np.isin(active, secret).all()
    assert len(np.unique(np.concatenate([table, secret]))) == len(table) + len(secret)


def _record_tweaks(monkeypatch) -> dict[str, list[np.ndarray]]:
    """Record the tweaks of every hash call, by role (garbler: 4 labels per tweak pair)."""
    seen = {"garbler": [], "evaluator": []}
    original = TweakHash.bind

    def bind(self, x, t, **kw):
        run, h = original(self, x, t, **kw)
        role = "garbler" if len(x) == 2 * len(t) else "evaluator"

        def recorded():
            seen[role].append(t.reshape(-1, 2).copy())
            run()
        return recorded, h

    monkeypatch.setattr(TweakHash, "bind", bind)
    monkeypatch.setattr(gc_scratch, "_local", threading.local())  # drop steps bound earlier
    return seen


def test_tweaks_are_unique_per_hashed_pair_instance_and_chunk(monkeypatch, scheme):
    seen = _record_tweaks(monkeypatch)
    lin, _, _ = tiny_activation()
    n, k = 50, PER_GATE[scheme]
    G.garble(lin, n, 9, first_instance=0, scheme=scheme)
    G.garble(lin, n, 9, first_instance=n, scheme=scheme)   # the next chunk of the same garbling
    G.garble(lin, n, 10, first_instance=0, scheme=scheme)  # another garbling
    rows = np.concatenate(seen["garbler"])
    assert len(rows) == 3 * k * lin.and_count * n
    assert _n_distinct(rows) == len(rows)
    # and they follow the documented layout
    assert tweak(9, 0, lin.and_count, 0, 0, per_gate=k) == 9 << 64
    as_ints = {int(hi) << 64 | int(lo) for lo, hi in rows}
    assert as_ints == {tweak(base, inst, lin.and_count, g, h, per_gate=k)
                       for base, insts in ((9, range(2 * n)), (10, range(n)))
                       for inst in insts for g in range(lin.and_count) for h in range(k)}


def test_evaluation_uses_the_garblers_tweaks(monkeypatch, scheme):
    """The evaluator hashes with exactly the tweaks of the active hashed pairs."""
    seen = _record_tweaks(monkeypatch)
    lin, _, _ = tiny_activation()
    two_party(lin, tanh_inputs(20, 2), evaluator_buses=("r_c",), scheme=scheme)
    assert np.array_equal(np.concatenate(seen["garbler"]), np.concatenate(seen["evaluator"]))


def test_garbling_twice_gives_unrelated_tables(scheme):
    lin, _, _ = tiny_activation()
    inputs = tanh_inputs(200, seed=5)
    a, b = (two_party(lin, inputs, ("r_c",), scheme=scheme)[1] for _ in range(2))
    assert np.mean(a.tables == b.tables) < 0.01  # bytes agree by chance only (~1/256)
    if a.control.size:
        assert 0.4 < np.mean(a.control == b.control) < 0.6


def _tampered(gc, **arrays):
    return dataclasses.replace(gc, **arrays)


def test_tampered_tables_corrupt_exactly_the_tampered_instance(scheme):
    lin, _, _ = tiny_activation()
    inputs = tanh_inputs(30, seed=6)
    want = plain_evaluate(lin, inputs)["y_low"]
    out, gc, _, labels = two_party(lin, inputs, evaluator_buses=("r_c",), scheme=scheme)
    assert np.array_equal(out["y_low"], want)
    tables = gc.tables.copy()
    tables[:, :, 7, 5] ^= 0x10         # one bit of every ciphertext of instance 7
    tampered = [_tampered(gc, tables=tables)]
    if gc.control.size:                # every control bit of instance 7
        control = gc.control.copy()
        control[:, :, 7] ^= 1
        tampered.append(_tampered(gc, control=control))
    for bad in tampered:
        got = G.decode(bad, G.evaluate(lin, bad, labels))["y_low"]
        assert got[7] != want[7]
        assert np.array_equal(np.delete(got, 7), np.delete(want, 7))
    # a wrong tweak_base (a replayed or mislabelled garbling) also breaks decoding
    moved = _tampered(gc, tweak_base=gc.tweak_base + 1)
    got = G.decode(moved, G.evaluate(lin, moved, labels))["y_low"]
    assert np.mean(got == want) < 0.2


def test_randomness_comes_only_from_os_urandom(monkeypatch, scheme):
    calls = []

    def fake_urandom(k):
        calls.append(k)
        return bytes(range(k))

    monkeypatch.setattr(L.os, "urandom", fake_urandom)
    lin, _, _ = tiny_activation()
    (g1, s1), (g2, s2) = (G.garble(lin, 10, 1, scheme=scheme) for _ in range(2))
    assert calls
    # with the OS CSPRNG pinned, everything is determined: no other entropy source exists
    # (three-halves' dicing bits included: they show in the control bits and the tables)
    assert np.array_equal(g1.tables, g2.tables) and np.array_equal(s1.delta, s2.delta)
    assert np.array_equal(g1.control, g2.control)


def test_no_weak_rng_in_the_garbling_modules():
    files = sorted(pathlib.Path(gc_pkg.__file__).parent.glob("*.py"))
    assert {"garble.py", "hash.py", "labels.py", "garbler.py",
            "three_halves_garbler.py"} <= {f.name for f in files}
    for f in files:
        src = f.read_text()
        for bad in ("import random", "from random", "np.random", "numpy.random", "default_rng"):
            assert bad not in src, f"{f.name}: {bad}"


def test_evaluator_api_never_takes_garbler_secrets():
    for fn in (G.evaluate, G.decode):
        params = inspect.signature(fn).parameters.values()
        assert not any("Secret" in str(p.annotation) for p in params)
    lin, _, _ = tiny_activation()
    gc, sec = G.garble(lin, 4, 1)
    with pytest.raises(TypeError):
        G.evaluate(lin, sec, {})
    assert not any(f.name in ("delta", "zero_labels") for f in dataclasses.fields(gc))
    assert str(sec.delta.tobytes()) not in repr(sec) and "array" not in repr(sec)
    with pytest.raises(TypeError):
        pickle.dumps(sec)
    with pytest.raises(ValueError):
        sec.delta[0] = 0  # read-only


def test_the_message_to_the_evaluator_holds_no_garbler_secret(scheme):
    """Not R, not a zero- or one-label, not even half of one (three-halves sends halves)."""
    lin, _, _ = tiny_activation()
    gc, sec = G.garble(lin, 3, 1, scheme=scheme)
    data = gc_to_bytes(gc)
    zero = [z for zl in sec.zero_labels.values() for z in zl.reshape(-1, 16)]
    for label in [sec.delta] + zero + [z ^ sec.delta for z in zero]:
        assert label[:8].tobytes() not in data and label[8:].tobytes() not in data


def test_each_bus_is_released_once():
    lin, _, _ = tiny_activation()
    _, sec = G.garble(lin, 4, 1)
    G.input_labels(sec, "x_masked", [1, 2, 3, 4])
    with pytest.raises(ValueError, match="already released"):
        G.input_labels(sec, "x_masked", [5, 6, 7, 8])  # two encodings would reveal R
    G.label_pairs(sec, "r_c")
    with pytest.raises(ValueError, match="already released"):
        G.input_labels(sec, "r_c", [0, 0, 0, 0])
    with pytest.raises(KeyError):
        G.input_labels(sec, "y_low", [0, 0, 0, 0])
