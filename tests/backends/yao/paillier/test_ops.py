"""Encryption, CRT decryption, the signed encoding and the homomorphic operations."""
from __future__ import annotations

import secrets

import gmpy2
import numpy as np
import pytest

from veil.backends.yao.paillier import (
    CrtNoise, InsecureKeyWarning, ShortExpNoise, add, add_plain, decode_signed, decrypt,
    decrypt_signed, decrypt_without_crt, encode_signed, encrypt, encrypt_signed, generate_keypair,
    max_signed, mul_plain, neg, recover_randomness, rerandomise, rerandomise_all, sub,
    sum_ciphertexts, to_phe)


@pytest.fixture(scope="module")
def keys():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(1024)


def _signed(bits: int) -> int:
    v = secrets.randbits(bits)
    return -v if secrets.randbits(1) else v


def test_signed_round_trip_including_the_bounds(keys):
    pk, sk = keys
    top = max_signed(pk)
    assert 3 * top < pk.n <= 3 * (top + 1)
    values = [0, 1, -1, top, -top, top - 1, -top + 1] + [_signed(1000) for _ in range(10)]
    assert decrypt_signed(sk, encrypt_signed(pk, values)) == values


def test_signed_encoding_refuses_values_outside_n_over_3(keys):
    pk, _ = keys
    for v in (max_signed(pk) + 1, -max_signed(pk) - 1, pk.n):
        with pytest.raises(OverflowError):
            encode_signed(pk, v)
        with pytest.raises(OverflowError):
            encrypt_signed(pk, [v])


def test_decoding_gives_the_representative_in_the_half_open_interval(keys):
    pk, sk = keys
    n, half = int(pk.n), int(pk.n) // 2               # n is odd: (-n/2, n/2] is [-half, half]
    assert decode_signed(pk, half, check=False) == half
    assert decode_signed(pk, half + 1, check=False) == -half
    assert decode_signed(pk, n - 1) == -1
    # a residue in the overflow gap n/3 <= |v| <= n/2 is flagged, or returned when unchecked
    gap = encrypt(pk, [max_signed(pk) + 1])
    with pytest.raises(OverflowError):
        decrypt_signed(sk, gap)
    assert decrypt_signed(sk, gap, check=False) == [max_signed(pk) + 1]


def test_numpy_integers_and_tuples_are_accepted(keys):
    pk, sk = keys
    cts = tuple(encrypt_signed(pk, np.array([-3, 4, 2**62], dtype=np.int64)))
    assert decrypt_signed(sk, cts) == [-3, 4, 2**62]


def test_raw_residues_use_all_of_z_n(keys):
    pk, sk = keys
    values = [0, 1, int(pk.n) - 1, secrets.randbelow(int(pk.n))]
    assert decrypt(sk, encrypt(pk, values)) == values
    assert decrypt(sk, encrypt(pk, [-5])) == [int(pk.n) - 5]
    with pytest.raises(OverflowError):
        encrypt(pk, [pk.n])


@pytest.mark.parametrize("noise", ["fresh", "crt", "short"])
def test_every_noise_source_encrypts_correctly(keys, noise):
    pk, sk = keys
    source = {"fresh": None, "crt": CrtNoise(sk), "short": ShortExpNoise(pk)}[noise]
    values = [_signed(500) for _ in range(8)]
    cts = encrypt_signed(pk, values, source)
    assert len(set(cts)) == len(cts)
    assert decrypt_signed(sk, cts) == values


def test_crt_decryption_matches_textbook_and_phe(keys):
    pk, sk = keys
    cts = encrypt(pk, [secrets.randbelow(int(pk.n)) for _ in range(5)])
    _, phe_sk = to_phe(sk)
    reference = [phe_sk.raw_decrypt(int(c)) for c in cts]
    assert decrypt(sk, cts) == decrypt_without_crt(sk, cts) == reference


def test_homomorphic_operations(keys):
    pk, sk = keys
    x, y, k = _signed(300), _signed(300), _signed(200)
    a, b = encrypt_signed(pk, [x, y])
    got = decrypt_signed(sk, [add(pk, a, b), sub(pk, a, b), add_plain(pk, a, k), neg(pk, a),
                              mul_plain(pk, a, k), mul_plain(pk, a, -k), mul_plain(pk, a, 0),
                              mul_plain(pk, a, 1)])
    assert got == [x + y, x - y, x + k, -x, x * k, -x * k, 0, x]


def test_mul_plain_by_a_full_size_mask_reduces_mod_n(keys):
    pk, sk = keys
    a = encrypt(pk, [3])[0]
    mask = secrets.randbelow(int(pk.n))
    assert decrypt(sk, [mul_plain(pk, a, mask)]) == [3 * mask % int(pk.n)]
    assert decrypt(sk, [mul_plain(pk, a, mask - int(pk.n))]) == [3 * mask % int(pk.n)]


def test_sum_of_many_ciphertexts(keys):
    pk, sk = keys
    values = [_signed(64) for _ in range(40)]
    assert decrypt_signed(sk, [sum_ciphertexts(pk, encrypt_signed(pk, values))]) == [sum(values)]
    assert sum_ciphertexts(pk, []) == 1


def test_rerandomise_keeps_the_plaintext_and_changes_everything_else(keys):
    pk, sk = keys
    c = encrypt_signed(pk, [-77])[0]
    d = rerandomise(pk, c)
    e = rerandomise(pk, c, CrtNoise(sk))
    assert len({c, d, e}) == 3
    assert decrypt_signed(sk, [c, d, e]) == [-77] * 3
    assert len({recover_randomness(sk, x) for x in (c, d, e)}) == 3
    batch = rerandomise_all(pk, [c] * 4, ShortExpNoise(pk))
    assert len(set(batch)) == 4 and decrypt_signed(sk, batch) == [-77] * 4


def test_recover_randomness(keys):
    pk, sk = keys
    n, n2 = pk.n, pk.nsquare
    r = gmpy2.mpz(secrets.randbelow(int(n) - 1) + 1)
    m = secrets.randbelow(int(n))
    c = (1 + m * n) * gmpy2.powmod(r, n, n2) % n2
    assert recover_randomness(sk, c) == r
    for noise in (None, CrtNoise(sk), ShortExpNoise(pk)):
        c = encrypt(pk, [m], noise)[0]
        r = recover_randomness(sk, c)
        assert 0 < r < n and (1 + m * n) * gmpy2.powmod(r, n, n2) % n2 == c
    for bad in (0, n2, sk.p * 5):
        with pytest.raises(ValueError):
            recover_randomness(sk, bad)
