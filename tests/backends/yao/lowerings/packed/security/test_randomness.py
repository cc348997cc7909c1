"""Fresh randomness: every ciphertext that crosses has its own fresh random factor, whose
randomness (recovered with the key) is distinct from every other and from the owner's."""
import gmpy2
import numpy as np
import pytest

from veil.backends.yao import paillier as P

from .packed_security_kit import BATCHES, PATCHES, cts_under

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def randomness(sk, cts):
    return [P.recover_randomness(sk, c) for c in cts]


def owner_randomness(run):
    """Randomness of the owner's published ciphertexts (held by the cloud): columns
    [layer][k][j] and biases [layer][k]."""
    sk = run["sk_u"]
    cols = [[randomness(sk, row) for row in layer] for layer in run["model"].columns]
    bias = [randomness(sk, b) for b in run["model"].biases]
    return cols, bias


def test_every_user_key_ciphertext_the_user_receives_is_fresh(run):
    """Recover the randomness of every ciphertext under the user's key the user receives (V
    columns, E): all distinct, and none is the randomness of an owner's ciphertext."""
    cols, bias = owner_randomness(run)
    held = {r for layer in cols for row in layer for r in row} | {r for b in bias for r in b}
    got = [r for cts in cts_under(run["user"], run["pk_u"]) for r in randomness(run["sk_u"], cts)]
    assert len(got) == sum(sh.blocks * sh.n_in for sh in run["shapes"]) + BATCHES * PATCHES * sum(
        sh.blocks for sh in run["shapes"])
    assert len(set(got)) == len(got)
    assert not held & set(got)


def test_each_user_key_ciphertext_has_its_own_fresh_factor(run):
    """Divide out the randomness the cloud's homomorphic operations inherit (the owner's
    columns and bias): what is left of each masked column and each E is the fresh factor,
    which must be non-trivial and different for every ciphertext. A masked column sent
    without rerandomisation, or an E whose Enc_u(pack m) had no random factor, leaves 1 (or
    repeats)."""
    sk, n = run["sk_u"], run["pk_u"].n
    cols, bias = owner_randomness(run)
    fresh = []
    for cts, sh, c in zip(cts_under(run["user"], run["pk_u"], "setup"), run["shapes"], cols):
        inherited = [r for row in c for r in row]                  # [k][j] row-major
        fresh += [r * gmpy2.invert(h, n) % n for r, h in zip(randomness(sk, cts), inherited)]
    for i, b in enumerate(run["batches"]):
        E = cts_under(run["user"], run["pk_u"], f"prepare{i}")
        for k, (cts, sh) in enumerate(zip(E, run["shapes"])):
            s = b["s"][k]
            for p in range(PATCHES):
                for blk in range(sh.blocks):
                    inherited = gmpy2.invert(bias[k][blk], n)
                    if s is not None:
                        for j in range(sh.n_in):
                            inherited = inherited * gmpy2.powmod(cols[k][blk][j], s[p][j], n) % n
                    r = P.recover_randomness(sk, cts[p * sh.blocks + blk])
                    fresh.append(r * gmpy2.invert(inherited, n) % n)
    assert 1 not in fresh
    assert len(set(fresh)) == len(fresh)


def test_every_ciphertext_the_cloud_receives_is_fresh(run):
    """D under the cloud's key: randomness (recovered with sk_c) distinct from every other D
    and from Enc_c(-R)'s. Dividing out what the products over Q = Enc_c(V) Enc_c(-R) inherit
    from Enc_c(-R) (known to the cloud, with the exponents e = patch or y') leaves exactly
    the randomness of F: non-trivial, distinct. Without F's fresh factor the cloud would hold
    prod_j rho_j^(e_j), a function of the user's patch."""
    sk, n = run["sk_c"], run["pk_c"].n
    neg_R = cts_under(run["user"], run["pk_c"], "setup")
    rho = [randomness(sk, cts) for cts in neg_R]                     # [layer][k * n_in + j]
    held = {r for layer in rho for r in layer}
    got, fresh = [], []
    for i, b in enumerate(run["batches"]):
        D = cts_under(run["cloud"], run["pk_c"], f"online{i}")
        exps = [run["x"].tolist()] + [np.array(y, dtype=object).reshape(PATCHES, -1).tolist()
                                      for y in b["y_masked"]]
        for k, (cts, sh) in enumerate(zip(D, run["shapes"])):
            F = b["user"].F[k]
            assert len(F) == len(cts) == PATCHES * sh.blocks
            for p in range(PATCHES):
                for blk in range(sh.blocks):
                    r = P.recover_randomness(sk, cts[p * sh.blocks + blk])
                    inherited = 1
                    for j in range(sh.n_in):
                        inherited = inherited * pow(rho[k][blk * sh.n_in + j],
                                                    int(exps[k][p][j]), n) % n
                    f = r * gmpy2.invert(inherited, n) % n
                    assert f == P.recover_randomness(sk, F[p * sh.blocks + blk])
                    got.append(r)
                    fresh.append(f)
    assert len(set(got)) == len(got) and not held & set(got)
    assert 1 not in fresh and len(set(fresh)) == len(fresh)
    assert not held & set(fresh)
