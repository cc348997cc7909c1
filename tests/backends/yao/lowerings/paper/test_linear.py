"""Erkin et al. multiplication: correct, and what the user sees is masked."""
import secrets
import warnings

import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.paper.linear import accumulate, cloud_mask, cloud_unmask, user_multiply


@pytest.fixture(scope="module")
def keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(512)


def test_products_and_layer_sums(keys):
    pk, sk = keys
    n_out, n_in, patches = 3, 4, 2
    W = [[secrets.randbelow(2001) - 1000 for _ in range(n_in)] for _ in range(n_out)]
    bias = [secrets.randbelow(2001) - 1000 for _ in range(n_out)]
    ys = [[secrets.randbelow(2001) - 1000 for _ in range(n_in)] for _ in range(patches)]
    enc_W = [P.encrypt_signed(pk, row) for row in W]
    enc_y = [P.encrypt_signed(pk, y) for y in ys]
    flat_w = [enc_W[i][j] for _ in ys for i in range(n_out) for j in range(n_in)]
    flat_y = [enc_y[p][j] for p in range(patches) for _ in range(n_out) for j in range(n_in)]
    request, masks = cloud_mask(pk, flat_w, flat_y)
    replies = user_multiply(sk, request)
    prods = cloud_unmask(pk, replies, flat_w, flat_y, masks)
    sums = accumulate(pk, prods, P.encrypt_signed(pk, bias), n_in)
    want = [sum(W[i][j] * ys[p][j] for j in range(n_in)) + bias[i]
            for p in range(patches) for i in range(n_out)]
    assert P.decrypt_signed(sk, sums) == want


def test_user_sees_only_masked_values(keys):
    """The user's decryptions of the request: no weight and no activation in the clear,
    and fresh randomness on every ciphertext it receives."""
    pk, sk = keys
    W, y = [7, -3, 12], [5, 9, -8]
    enc_w, enc_y = P.encrypt_signed(pk, W), P.encrypt_signed(pk, y)
    request, masks = cloud_mask(pk, enc_w, enc_y)
    seen = P.decrypt_signed(sk, request, check=False)
    assert not set(seen) & set(W + y)
    assert all(abs(v) > 2 ** 400 for v in seen)          # uniform mod n: full-size values
    rand_in = {P.recover_randomness(sk, c) for c in enc_w + enc_y}
    rand_seen = [P.recover_randomness(sk, c) for c in request]
    assert not rand_in & set(rand_seen) and len(set(rand_seen)) == len(rand_seen)
    request2, _ = cloud_mask(pk, enc_w, enc_y)
    assert not set(P.decrypt(sk, request)) & set(P.decrypt(sk, request2))   # fresh masks


def test_reply_count_checked(keys):
    pk, sk = keys
    enc = P.encrypt_signed(pk, [1, 2])
    request, masks = cloud_mask(pk, enc, enc)
    with pytest.raises(ValueError):
        cloud_unmask(pk, user_multiply(sk, request)[:1], enc, enc, masks)
    with pytest.raises(ValueError):
        user_multiply(sk, request[:3])
