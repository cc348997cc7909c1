"""The evaluator attacks the translation table (docs/protocol.md, "The translation table").

Many instances of tanh*'s masked circuit, garbled with the table, all with the same y_masked
(r_u = Y - t(x)) but different x, so that (carry, sign) takes all four values. The evaluator
holds, per instance, one label of each hidden wire and the four rows; it decrypts every row
with the labels it holds. Its own row gives y_masked's high bits (the same everywhere); the
other three must tell it nothing about (carry, sign): their decryptions and their bytes are
distributed alike in every class, and a sign guessed from them is independent of the sign.
The negative control sends the rows unencrypted (the pads monkeypatched to zero): the same
attack then reads the sign from the order of the values (carry <= sign, which is the sign
when the carry is mostly 1, as here)."""
import numpy as np
import pytest

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import translate as T
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.compiler.synthesis import high_part, high_width, low_width

from .garble_kit import ot_select

KAPPA, N = 40, 3000


def _view(low=57):
    """(what the evaluator receives and holds, the true (carry, sign) per instance)."""
    from veil.models.catalog import compile_model
    stage = compile_model("tiny").activation(1)
    lin, t = stage.masked_linear, stage.table
    acc, k, bits = t.acc_bits, low_width(t), high_width(t, KAPPA)
    rng = np.random.default_rng(21)     # test data only
    x = rng.integers(-(3 << t.acc_frac), 3 << t.acc_frac, N)
    y_masked = (1 << (t.out_format.total + KAPPA - 1)) + (12 << k) + low
    r_u = [y_masked - int(v) for v in t.reference(x)]
    r_c = [int(v) for v in rng.integers(0, 1 << acc, N)]
    xm = [(int(a) + b) % (1 << acc) for a, b in zip(x, r_c)]
    clear = plain_evaluate(lin, {"x_masked": np.array(xm), "r_c": np.array(r_c),
                                 "r_lo": np.array([r % (1 << k) for r in r_u])})
    gc, sec = G.garble(lin, N, 7, hidden=("carry", "sign"))
    values = [[high_part(t, KAPPA, r >> k, a, s) for a in (0, 1) for s in (0, 1)] for r in r_u]
    rows = T.garble_table(sec.output_zero["carry"][0], sec.output_zero["sign"][0], sec.delta,
                          values, bits, 7)
    labels = {"x_masked": G.input_labels(sec, "x_masked", xm),
              "r_lo": G.input_labels(sec, "r_lo", [r % (1 << k) for r in r_u]),
              "r_c": ot_select(G.label_pairs(sec, "r_c"), r_c, acc)}
    out = G.evaluate(lin, gc, labels)
    classes = np.asarray(clear["carry"], int) * 2 + np.asarray(clear["sign"], int)
    return (out["carry"][0], out["sign"][0], rows, bits, y_masked >> k), classes


def _decrypt_every_row(la, lb, rows, bits):
    """All four rows opened with the labels the evaluator holds: (N, 4) values."""
    n = len(rows)
    pads = T._pads(np.repeat(la[:, None], 4, 1), np.repeat(lb[:, None], 4, 1),
                   np.tile(np.arange(4), (n, 1)), 7, 0)[..., :rows.shape[2]]
    raw = rows ^ pads
    return np.array([[int.from_bytes(r.tobytes(), "little") % (1 << bits) for r in inst]
                     for inst in raw], dtype=object)


def _attack(view):
    la, lb, rows, bits, high = view
    vals = _decrypt_every_row(la, lb, rows, bits)
    own = (2 * (la[:, 0] & 1) + (lb[:, 0] & 1)).astype(int)
    mine = vals[np.arange(len(vals)), own]
    # in the clear the rows are r_hi + carry - sign for the four (carry, sign): sorted,
    # r_hi - 1, r_hi, r_hi, r_hi + 1, so "own value <= the second smallest" is carry <= sign
    guess = np.array([int(m <= sorted(v)[1]) for m, v in zip(mine, vals)])
    others = np.array([[v for p, v in enumerate(inst) if p != o] for inst, o in zip(vals, own)])
    return mine, guess, others


@pytest.mark.parametrize("low", [57, 1000])
def test_the_other_rows_tell_the_evaluator_nothing(low):
    view, classes = _view(low)
    # one y_masked allows three of the four (carry, sign): low 57 all but (0, 1), 1000 all
    # but (1, 0)
    assert set(classes.tolist()) == {0, 1, 2, 3} - {1 if low < 512 else 2}
    mine, guess, others = _attack(view)
    assert set(mine.tolist()) == {view[4]}               # its row: y_masked's high bits
    sign = classes & 1
    p1, p0 = guess[sign == 1].mean(), guess[sign == 0].mean()     # independent of the sign
    assert abs(p1 - p0) < 5 * np.sqrt(0.25 / np.sum(sign == 1) + 0.25 / np.sum(sign == 0))
    # no other row decrypts next to y_masked's high bits (r_hi + 1, r_hi - 1 would give s
    # away); a window of 2^20 failed about once in a hundred runs by chance (9,000 uniform
    # 41-bit values), one of +-3 has a chance of ~2e-8
    assert not np.any(np.abs((others - view[4]).astype(float)) < 4)
    # the other rows' bytes: balanced bits in every class, and the classes alike
    la, lb, rows, _, _ = view
    own = (2 * (la[:, 0] & 1) + (lb[:, 0] & 1)).astype(int)
    mask = np.ones(rows.shape[:2], bool)
    mask[np.arange(N), own] = False
    other_bits = np.unpackbits(rows[mask].reshape(N, -1), axis=1)
    for c in set(classes.tolist()):
        m = other_bits[classes == c].mean(axis=0)
        tol = 5 * np.sqrt(0.25 / np.sum(classes == c))
        assert np.all(np.abs(m - 0.5) < tol), c
    # the colours of its labels (its row's position) are independent of the class
    for c in set(classes.tolist()):
        pos = np.bincount(own[classes == c], minlength=4) / np.sum(classes == c)
        assert np.all(np.abs(pos - 0.25) < 5 * np.sqrt(0.1875 / np.sum(classes == c))), c


def test_negative_control_unencrypted_rows_give_the_sign_away(monkeypatch):
    monkeypatch.setattr(T, "_pads", lambda la, lb, rows, *a: np.zeros(
        (*rows.shape, 16), np.uint8))
    view, classes = _view()
    mine, guess, _ = _attack(view)
    assert set(mine.tolist()) == {view[4]}                # still correct for the evaluator
    sign = classes & 1
    assert np.mean(guess == sign) > 0.9                   # but the sign leaks
    assert np.all(guess[sign == 1] == 1)                  # every negative t, exactly
