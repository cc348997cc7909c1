"""The packed dense layer, phase by phase, exact against the plaintext reference: layer 1
(the user's own patch as exponents, signed) and later layers (y + s, the cloud's mask),
hidden (x + r_c) and output (q) decoding, inline and on the process pool."""
import secrets
import warnings

import numpy as np
import pytest

from veil.backends.executor import ProcessExecutor

from veil.backends.plaintext import dense_exact
from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.paillier.pooled import FixedBases
from veil.compiler.packed_layout import PackedLayout
from veil.compiler.errors import SourcePos
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.model import Layer
from veil.compiler.program import SecurityParams
from veil.util.errors import ProtocolError

KAPPA = 40


@pytest.fixture(scope="module")
def keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(768), P.generate_keypair(1024)     # user's, cloud's


def full_range(fmt: FixFormat, shape) -> np.ndarray:
    """Uniform over the format, with both extremes present."""
    a = np.array([secrets.randbelow(1 << fmt.total) + fmt.min_int
                  for _ in range(int(np.prod(shape)))], np.int64).reshape(shape)
    flat = a.reshape(-1)
    flat[0], flat[-1] = fmt.min_int, fmt.max_int
    return a


def make_layer(n_in: int, n_out: int, w_bits: int = 8, a_bits: int = 10,
               first: bool = True) -> Layer:
    wf, af = FixFormat(w_bits, w_bits - 2), FixFormat(a_bits, a_bits - 3)
    bf = FixFormat(w_bits, wf.frac - 1)                 # shifted into the accumulator
    acc = wf.total + af.total + n_in.bit_length() + 1   # ceil(log2(n+1)) <= bit_length
    return Layer(index=1 if first else 2, n_in=n_in, n_out=n_out, activation=None,
                 weights=full_range(wf, (n_out, n_in)), bias=full_range(bf, (n_out,)),
                 weights_float=np.zeros((n_out, n_in)), bias_float=np.zeros(n_out),
                 in_format=af, weight_format=wf, bias_format=bf, acc_bits=acc,
                 acc_frac=wf.frac + af.frac, pos=SourcePos("test", 1, 1))


def run_layer(keys, layer: Layer, patches: int, last: bool, y=None, executor=None):
    """One dense layer through every phase. The layer's input is the patch (layer 1) or
    y + s, the garbled activation's output masked by the cloud's s."""
    (pk_u, sk_u), (pk_c, sk_c) = keys
    sec = SecurityParams(modulus_bits=pk_u.bits, kappa=KAPPA)
    sh = PackedLayout.of(layer, sec)
    columns = L.publish_columns(pk_u, layer, sh)                          # owner
    bias = L.publish_bias(pk_u, layer, sh)
    R = L.draw_weight_masks(sh)                                            # cloud, once
    masked = L.masked_columns(pk_u, columns, R, sh)
    neg_R = L.negated_masks(pk_c, R, sh, P.CrtNoise(sk_c))
    V = L.unmask_columns(sk_u, masked, sh)                                 # user, once
    Q = FixedBases(L.user_columns(pk_c, V, neg_R, sh), pk_c.nsquare, *L.user_exponent_range(sh),
                   executor)
    s = None if sh.first else L.draw_input_masks(sh, patches)              # cloud, offline
    m = L.draw_slot_masks(sh, patches)
    cols = FixedBases(columns, pk_u.nsquare, *L.cloud_exponent_range(sh), executor)
    E = L.cloud_corrections(pk_u, cols, L.inverted_bias(pk_u, bias, sh), s, m, sh)
    r_c = L.draw_accumulator_masks(sh, patches)                            # user, offline
    F = L.user_corrections(sk_u, pk_c, E, r_c, sh, executor=executor)
    if y is None:                                                          # online
        y = full_range(layer.in_format, (patches, layer.n_in))
    e = y.tolist() if s is None else [[int(v) + a for v, a in zip(row, ss)]
                                      for row, ss in zip(y, s)]
    D = L.user_products(pk_c, Q, e, F, sh)
    masked_x = L.cloud_decode(sk_c, D, m, sh, executor)
    out = L.user_output(masked_x, r_c, sh) if last else masked_x
    return dict(sh=sh, R=R, V=V, s=s, m=m, r_c=r_c, y=y, E=E, D=D, out=out, masked_x=masked_x)


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("n_in,n_out", [(1, 1), (5, 13), (20, 60), (17, 37)])
def test_hidden_layer_exact_and_masked(keys, n_in, n_out, first):
    layer = make_layer(n_in, n_out, first=first)
    res = run_layer(keys, layer, patches=3, last=False)
    sh = res["sh"]
    assert n_out < 30 or sh.blocks > 1
    x = dense_exact(layer, res["y"])
    got = np.array(res["out"], dtype=object) - np.array(res["r_c"], dtype=object)
    assert (got.astype(np.int64) == x).all()
    diff = np.array(res["out"], dtype=object) - x.astype(object)
    assert (diff >= 2 ** layer.acc_bits).all()                 # x' = x + r_c, r_c >= 2^acc
    W = layer.weights.tolist()
    assert [[v - r for v, r in zip(vs, rs)] for vs, rs in zip(res["V"], res["R"])] == W
    # the user's view of the weights: every V slot above any weight value
    assert min(min(row) for row in res["V"]) > layer.weight_format.max_int


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("n_in,n_out", [(3, 4), (20, 60)])
def test_output_layer_signed(keys, n_in, n_out, first):
    layer = make_layer(n_in, n_out, w_bits=10, a_bits=8, first=first)
    res = run_layer(keys, layer, patches=2, last=True)
    assert (np.array(res["out"], np.int64) == dense_exact(layer, res["y"])).all()


def test_process_pool_equals_inline(keys):
    """Two worker processes give the same products as this process (and the reference)."""
    layer = make_layer(20, 60, first=False)
    with ProcessExecutor(2) as executor:
        res = run_layer(keys, layer, patches=3, last=True, executor=executor)
    assert (np.array(res["out"], np.int64) == dense_exact(layer, res["y"])).all()


def test_extreme_accumulators(keys):
    """Weights and inputs at their extremes, and the bias too: the accumulator's largest
    magnitudes of both signs, through hidden (unsigned) and output (signed) decoding."""
    for first in (True, False):
        layer = make_layer(6, 9, first=first)
        wf, af, bf = layer.weight_format, layer.in_format, layer.bias_format
        y = np.array([[af.min_int] * 6, [af.max_int] * 6])
        for w, b in ((wf.min_int, bf.max_int), (wf.max_int, bf.min_int)):
            layer.weights[:], layer.bias[:] = w, b
            for last in (False, True):
                res = run_layer(keys, layer, patches=2, last=last, y=y)
                x = dense_exact(layer, y)
                assert int(np.abs(x).max()) < 2 ** (layer.acc_bits - 1)
                got = np.array(res["out"], dtype=object)
                if not last:
                    got = got - np.array(res["r_c"], dtype=object)
                assert (got.astype(np.int64) == x).all()


def test_counts_and_ranges_checked(keys):
    (pk_u, sk_u), (pk_c, sk_c) = keys
    layer = make_layer(4, 5, first=False)
    sh = PackedLayout.of(layer, SecurityParams(modulus_bits=pk_u.bits, kappa=KAPPA))
    columns = L.publish_columns(pk_u, layer, sh)
    with pytest.raises(ValueError):
        L.unmask_columns(sk_u, L.masked_columns(pk_u, columns, L.draw_weight_masks(sh), sh)[:-1], sh)
    Q = FixedBases(columns, pk_c.nsquare, 0, sh.exponent_bound)
    F = [P.encrypt(pk_c, [0])[0]] * sh.blocks
    with pytest.raises(ValueError):                     # a negative masked input
        L.user_products(pk_c, Q, [[-1, 0, 0, 0]], F, sh)
    with pytest.raises(ValueError):                     # wrong patch count
        L.user_products(pk_c, Q, [[1, 1, 1, 1]] * 2, F, sh)
    with pytest.raises(ProtocolError):                     # a correction wider than its slots
        L.user_corrections(sk_u, pk_c, P.encrypt(pk_u, [pk_u.n - 1] * sh.blocks),
                           [[1 << 60] * 5], sh)
