"""The translation table (gc/translate.py) with the masked activation circuit: exactness against
the integer reference on every small input, under both schemes, with masks at the edges; the
tweaks; the wire format."""
import numpy as np
import pytest

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import translate as T
from veil.backends.yao.gc.labels import random_delta, random_labels
from veil.backends.yao.gc.tweaks import tweak as gate_tweak
from veil.backends.yao.gc.wire import gc_from_bytes, gc_to_bytes
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise
from veil.compiler.activation_table import ActivationTable
from veil.compiler.check import load_prelude
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.synthesis import high_part, high_width, low_width, masked_activation_circuit
from veil.util.errors import ProtocolError

from .garble_kit import SCHEMES, ot_select

KAPPA = 8          # a small kappa: r_hi's whole range is a few values


def _table():
    """tanh* with a 12-bit accumulator, x in [-4, 4) (every input is tried), fix<10,8>."""
    return ActivationTable.build(load_prelude()["tanh_star"], 12, 9, FixFormat(10, 8), 9)


def _secure(t, lin, x, r_c, r_u, scheme, tweak_base=3):
    """The garbled masked circuit plus its translation table, both parties in one place."""
    n, k, acc = len(x), low_width(t), t.acc_bits
    gc, sec = G.garble(lin, n, tweak_base, scheme=scheme, hidden=("carry", "sign"))
    assert set(gc.decoding) == {"y_low"}
    values = [[high_part(t, KAPPA, r >> k, a, s) for a in (0, 1) for s in (0, 1)] for r in r_u]
    rows = T.garble_table(sec.output_zero["carry"][0], sec.output_zero["sign"][0], sec.delta,
                          values, high_width(t, KAPPA), tweak_base)
    gc = gc_from_bytes(gc_to_bytes(gc), lin, n, hidden=("carry", "sign"))
    xm = [(xi + rc) % (1 << acc) for xi, rc in zip(x, r_c)]
    labels = {"x_masked": G.input_labels(sec, "x_masked", xm),
              "r_lo": G.input_labels(sec, "r_lo", [r % (1 << k) for r in r_u]),
              "r_c": ot_select(G.label_pairs(sec, "r_c"), [rc % (1 << acc) for rc in r_c], acc)}
    out = G.evaluate(lin, gc, labels)
    low = G.decode(gc, {"y_low": out["y_low"]})["y_low"]
    high = T.open_table(out["carry"][0], out["sign"][0],
                        T.table_from_bytes(T.table_to_bytes(rows), n, high_width(t, KAPPA)),
                        high_width(t, KAPPA), gc.tweak_base)
    return [(h << k) + int(v) for h, v in zip(high, low)], out


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_input_with_masks_at_the_edges(scheme):
    t = _table()
    lin = linearise(optimise(masked_activation_circuit(t, KAPPA)))
    k, w_a, acc = low_width(t), t.out_format.total, t.acc_bits
    rng = np.random.default_rng(11)     # test data only
    x = list(range(-(1 << acc - 1), 1 << acc - 1))
    n = len(x)
    top = (1 << (w_a + KAPPA)) - 1
    # r_u anywhere in [0, 2^(l_a+kappa)): r_hi = 0 (hi wraps below 0 for a negative t with
    # no carry), r_hi at its maximum, r_lo at 0 and at its maximum, and uniform ones
    edges = [0, (1 << k) - 1, top, top - ((1 << k) - 1), 1 << w_a]
    r_u = [edges[i % len(edges)] if i % 3 else int(v)
           for i, v in enumerate(rng.integers(0, top + 1, n))]
    r_c = [int(v) for v in rng.integers(0, 1 << (acc + KAPPA), n)]
    got, out = _secure(t, lin, x, r_c, r_u, scheme)
    ref = t.reference(np.array(x))
    want = [(int(v) + r) % (1 << (w_a + KAPPA + 1)) for v, r in zip(ref, r_u)]
    assert got == want
    # every (carry, sign) pair occurred, and the hidden wires are what synthesis says
    clear = plain_evaluate(lin, {"x_masked": np.array([(a + b) % (1 << acc) for a, b in
                                                       zip(x, r_c)]),
                                 "r_c": np.array([v % (1 << acc) for v in r_c]),
                                 "r_lo": np.array([r % (1 << k) for r in r_u])})
    pairs = set(zip(clear["carry"].tolist(), clear["sign"].tolist()))
    assert pairs == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert any(r >> k == 0 and c == 0 and s == 1 for r, c, s in
               zip(r_u, clear["carry"], clear["sign"]))          # the wrap below 0
    assert any(r >> k == top >> k and c == 1 and s == 0 for r, c, s in
               zip(r_u, clear["carry"], clear["sign"]))          # the wrap above the top


def test_the_tweaks_are_unique_and_never_a_gates():
    n = 50
    rows = {T.tweak(9, i, p, j) for i in range(n) for p in range(4) for j in range(2)}
    assert len(rows) == 8 * n
    wide = {T.tweak(9, i, p, j, b, 3) for i in range(n) for p in range(4) for j in range(2)
            for b in range(3)}
    assert len(wide) == 24 * n                           # values over 128 bits: 3 blocks
    gates = {gate_tweak(9, i, 300, g, s, 3) for i in range(n) for g in range(300)
             for s in range(3)}
    assert not rows & gates
    with pytest.raises(ValueError, match="below 2"):
        T.check_range(1 << 63, 0, 1)


@pytest.mark.parametrize("bits", [42, 129, 300])
def test_open_table_reads_the_row_of_the_held_labels_only(bits):
    n = 200
    za, zb, d = random_labels(n), random_labels(n), random_delta()
    values = [[(i << 4) + c for c in range(4)] for i in range(n)]
    rows = T.garble_table(za, zb, d, values, bits, 5, first_instance=7)
    for a in (0, 1):
        for b in (0, 1):
            la, lb = za ^ (a * d), zb ^ (b * d)
            assert T.open_table(la, lb, rows, bits, 5, 7) == [v[2 * a + b] for v in values]
            # another tweak base or instance numbering opens garbage
            assert T.open_table(la, lb, rows, bits, 6, 7) != [v[2 * a + b] for v in values]


def test_malformed_rows_are_one_protocol_error():
    n, bits = 8, 42
    good = bytes(T.table_bytes(n, bits))
    assert T.table_from_bytes(good, n, bits).shape == (n, 4, 6)
    for bad in (good[:-1], good + b"\0", b""):
        with pytest.raises(ProtocolError, match="translation table has"):
            T.table_from_bytes(bad, n, bits)


def test_a_frame_with_decoding_bits_for_hidden_wires_is_refused():
    t = _table()
    lin = linearise(optimise(masked_activation_circuit(t, KAPPA)))
    gc, _ = G.garble(lin, 4, 1)                       # every output decodable
    with pytest.raises(ProtocolError, match="does not match"):
        gc_from_bytes(gc_to_bytes(gc), lin, 4, hidden=("carry", "sign"))
