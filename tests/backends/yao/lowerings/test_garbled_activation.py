"""The garbled activation between its two parties over a channel (real OT extension), under
each garbling scheme: the evaluator decodes y' = t(x) + r_u exactly; the tables frame has the
scheme's size (three-halves, the default, is 197 bits per AND against half-gates' 256) plus
the translation rows; an evaluator that accepts only some schemes refuses a frame garbled by
another before using it."""

import numpy as np
import pytest

from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.garbled_activation import ActivationEvaluator, ActivationGarbler
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.compiler.synthesis import high_width, join_masked, low_width
from veil.models.catalog import compile_model
from veil.util.errors import ProtocolError

from .secure_testkit import both, ot_session

KAPPA, N = 40, 24


def _session(scheme=None, accepted=None):
    sender, g_ch, receiver, e_ch = ot_session(Kind.GARBLED_TABLES)
    kw = {} if accepted is None else {"schemes": accepted}
    return (ActivationGarbler(sender, KAPPA, scheme), g_ch,
            ActivationEvaluator(receiver, KAPPA, **kw), e_ch)


def _activation():
    stage = compile_model("tiny").activation(1)
    rng = np.random.default_rng(5)  # test data only
    acc = stage.table.acc_bits
    return stage, [int(v) for v in rng.integers(0, 1 << acc, N)], \
        [int(v) for v in rng.integers(0, 1 << acc, N)]


def _run(scheme=None, accepted=None):
    garbler, g_ch, evaluator, e_ch = _session(scheme, accepted)
    stage, x_masked, r_c = _activation()
    y, r_u = both(lambda: evaluator.run(e_ch, stage, r_c),
                  lambda: garbler.run(g_ch, stage, x_masked), e_ch, g_ch)
    return stage, x_masked, r_c, r_u, y, e_ch


@pytest.mark.parametrize("scheme, bits", [(None, 197), ("half-gates", 256)])
def test_the_evaluator_decodes_the_masked_activation_under_each_scheme(scheme, bits):
    stage, x_masked, r_c, r_u, y, e_ch = _run(scheme)
    lin, t = stage.masked_linear, stage.table
    k = low_width(t)
    out = plain_evaluate(lin, {"x_masked": np.array(x_masked), "r_c": np.array(r_c),
                               "r_lo": np.array([r % (1 << k) for r in r_u], dtype=object)})
    assert y == join_masked(t, KAPPA, out, r_u)
    acc = t.acc_bits
    x = [((xm - rc) % (1 << acc)) - ((xm - rc) % (1 << acc) >> (acc - 1) << acc)
         for xm, rc in zip(x_masked, r_c)]
    assert y == [int(v) + ru for v, ru in zip(t.reference(np.array(x)), r_u)]
    (tables,) = e_ch.payloads
    out_bits, consts = len(lin.outputs["y_low"]), (lin.const0 >= 0) + (lin.const1 >= 0)
    rows = N * 4 * -(-high_width(t, KAPPA) // 8)
    assert len(tables) == (64 + -(-lin.and_count * N * bits // 8) + 16 * consts * N
                           + -(-out_bits * N // 8) + rows)


def test_an_evaluator_refuses_a_scheme_it_does_not_accept():
    with pytest.raises(ProtocolError, match="scheme three-halves is not accepted"):
        _run("three-halves", accepted=("half-gates",))
    _run("half-gates", accepted=("half-gates",))


@pytest.mark.parametrize("cut", [1, "rows only"])
def test_a_malformed_tables_frame_is_one_protocol_error(monkeypatch, cut):
    """The translation rows travel at the end of the tables frame; a frame short of a byte, or
    holding nothing but rows, is refused in one line before anything is evaluated."""
    import veil.backends.yao.lowerings.garbled_activation as ga
    real = ga.gc_to_bytes
    if cut == 1:
        monkeypatch.setattr(ga, "gc_to_bytes", lambda gc: real(gc)[:-1])
    else:
        monkeypatch.setattr(ga, "gc_to_bytes", lambda gc: b"")
    with pytest.raises(ProtocolError) as e:
        _run()
    assert "\n" not in str(e.value)
    assert ("garbled circuit message has" if cut == 1 else "too few") in str(e.value)
