"""The packed dense layer, phase by phase: exact against the plaintext reference, and what
each party decrypts is masked."""
import secrets
import warnings

import numpy as np
import pytest

from veil.backends.plaintext import dense_exact
from veil.backends.yao import paillier as P
from veil.backends.yao import packed_linear as L
from veil.backends.yao.packed_shapes import PackedShapes
from veil.compiler.errors import SourcePos
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.model import Layer
from veil.compiler.program import SecurityParams

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


def make_layer(n_in: int, n_out: int, w_bits: int = 8, a_bits: int = 10) -> Layer:
    wf, af = FixFormat(w_bits, w_bits - 2), FixFormat(a_bits, a_bits - 3)
    bf = FixFormat(w_bits, wf.frac - 1)                 # shifted into the accumulator
    acc = wf.total + af.total + n_in.bit_length() + 1   # ceil(log2(n+1)) <= bit_length
    return Layer(index=1, n_in=n_in, n_out=n_out, activation=None,
                 weights=full_range(wf, (n_out, n_in)), bias=full_range(bf, (n_out,)),
                 weights_float=np.zeros((n_out, n_in)), bias_float=np.zeros(n_out),
                 in_format=af, weight_format=wf, bias_format=bf, acc_bits=acc,
                 acc_frac=wf.frac + af.frac, pos=SourcePos("test", 1, 1))


def run_layer(keys, layer: Layer, patches: int, last: bool, y=None):
    (pk_u, sk_u), (pk_c, sk_c) = keys
    sec = SecurityParams(modulus_bits=pk_u.bits, kappa=KAPPA)
    sh = PackedShapes.of(layer, sec, cloud_modulus_bits=pk_c.bits)
    columns = L.publish_columns(pk_u, layer, sh)                          # owner
    R = L.draw_weight_masks(sh)                                            # cloud
    V = L.unmask_columns(sk_u, L.masked_columns(pk_u, columns, R, sh), sh)  # user
    enc_R = L.encrypt_wide_masks(pk_c, R, sh, P.CrtNoise(sk_c))
    r = L.draw_input_masks(sh, patches)                                    # user, offline
    wide, narrow = L.user_offline(pk_c, pk_u, enc_R, V, r, sh, P.CrtNoise(sk_u))
    r_c = None if last else L.draw_accumulator_masks(sh, patches)
    corr = L.cloud_offline(sk_c, pk_u, wide, narrow, L.publish_bias(pk_u, layer, sh), r_c, sh)
    if y is None:                                                          # online
        y = full_range(layer.in_format, (patches, layer.n_in))
    y_masked = [[int(v) + m for v, m in zip(row, rs)] for row, rs in zip(y, r)]
    cts = L.cloud_online(pk_u, columns, y_masked, corr, sh)
    out = L.user_decode(sk_u, cts, sh, signed=last)
    return dict(sh=sh, R=R, V=V, r=r, r_c=r_c, y=y, cts=cts, out=out, wide=wide, corr=corr)


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (5, 13), (20, 60), (17, 37)])
def test_hidden_layer_exact_and_masked(keys, n_in, n_out):
    layer = make_layer(n_in, n_out)
    res = run_layer(keys, layer, patches=3, last=False)
    sh = res["sh"]
    assert n_out < 30 or sh.blocks > 1 and sh.wide_blocks > 1
    x = dense_exact(layer, res["y"])
    got = np.array(res["out"], dtype=object) - np.array(res["r_c"], dtype=object)
    assert (got.astype(np.int64) == x).all()
    diff = np.array(res["out"], dtype=object) - x.astype(object)
    assert (diff >= 2 ** layer.acc_bits).all()                 # x' = x + r_c, r_c >= 2^acc
    W = layer.weights.tolist()
    assert [[v - r for v, r in zip(vs, rs)] for vs, rs in zip(res["V"], res["R"])] == W
    # the user's view of the weights: every V slot above any weight value
    assert min(min(row) for row in res["V"]) > layer.weight_format.max_int


@pytest.mark.parametrize("n_in,n_out", [(3, 4), (20, 60)])
def test_output_layer_signed(keys, n_in, n_out):
    layer = make_layer(n_in, n_out, w_bits=10, a_bits=8)
    res = run_layer(keys, layer, patches=2, last=True)
    assert (np.array(res["out"], np.int64) == dense_exact(layer, res["y"])).all()


def test_extreme_accumulators(keys):
    """Weights and inputs at their extremes, and the bias too: the accumulator's largest
    magnitudes of both signs, through hidden (unsigned) and output (signed) decoding."""
    layer = make_layer(6, 9)
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


def test_cloud_sees_only_masked_values(keys):
    """T = R r + m: every slot mask at least 2^b over the bits of R r; the online
    ciphertexts carry fresh randomness, distinct from the corrections'."""
    (pk_u, sk_u), (pk_c, sk_c) = keys
    layer = make_layer(7, 20)
    res = run_layer(keys, layer, patches=2, last=False)
    sh = res["sh"]
    plain = P.decrypt(sk_c, res["wide"])
    from veil.backends.yao.packed_slots import unpack_blocks
    for p in range(2):
        T = unpack_blocks(plain[p * sh.wide_blocks:(p + 1) * sh.wide_blocks],
                          sh.wide_bits, sh.wide_slots, sh.n_out)
        Rr = [sum(a * b for a, b in zip(row, res["r"][p])) for row in res["R"]]
        assert all(r < 2 ** sh.rr_bits for r in Rr)
        assert all(2 ** sh.rr_bits <= t - r < 2 ** (sh.rr_bits + KAPPA) for t, r in zip(T, Rr))
    rand = [P.recover_randomness(sk_u, c) for c in res["cts"]]
    assert len(set(rand)) == len(rand)


def test_counts_and_ranges_checked(keys):
    (pk_u, sk_u), _ = keys
    layer = make_layer(4, 5)
    sh = PackedShapes.of(layer, SecurityParams(modulus_bits=pk_u.bits, kappa=KAPPA))
    columns = L.publish_columns(pk_u, layer, sh)
    with pytest.raises(ValueError):
        L.unmask_columns(sk_u, L.masked_columns(pk_u, columns, L.draw_weight_masks(sh), sh)[:-1], sh)
    corr = [[P.encrypt(pk_u, [0])[0]] * sh.blocks]
    with pytest.raises(ValueError):                     # a negative "masked" input
        L.cloud_online(pk_u, columns, [[-1, 0, 0, 0]], corr, sh)
    with pytest.raises(ValueError):                     # wrong patch count
        L.cloud_online(pk_u, columns, [[1, 1, 1, 1]] * 2, corr, sh)
