"""Pippenger multi-exponentiation against the naive product of pows."""
from __future__ import annotations

import secrets

import pytest

from veil.backends.yao.paillier import (
    InsecureKeyWarning, decrypt_signed, encrypt_signed, generate_keypair, multi_exp)
from veil.backends.yao.paillier.multiexp import multi_exp_mod, naive_multi_exp_mod, window_bits
from veil.backends.yao.paillier.noise import random_unit


@pytest.fixture(scope="module")
def keys():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(512)


def _units(pk, k):
    return [random_unit(pk.nsquare) for _ in range(k)]


@pytest.mark.parametrize("count,bits", [(1, 1), (1, 50), (2, 7), (17, 50), (100, 20), (64, 1024),
                                        (300, 50)])
def test_equals_naive_product(keys, count, bits):
    pk, _ = keys
    bases = _units(pk, count)
    exps = [secrets.randbits(bits) for _ in range(count)]
    assert multi_exp(pk, bases, exps) == naive_multi_exp_mod(bases, exps, pk.nsquare)


def test_zero_exponents_and_empty_input(keys):
    pk, _ = keys
    bases = _units(pk, 10)
    assert multi_exp(pk, bases, [0] * 10) == 1
    assert multi_exp(pk, [], []) == 1
    exps = [0, 5, 0, 0, 2**40, 0, 1, 0, 0, 0]
    assert multi_exp(pk, bases, exps) == naive_multi_exp_mod(bases, exps, pk.nsquare)
    assert multi_exp(pk, bases[:1], [1]) == bases[0]


def test_negative_exponents(keys):
    pk, _ = keys
    bases = _units(pk, 30)
    exps = [secrets.randbits(50) - 2**49 for _ in range(30)]
    assert multi_exp(pk, bases, exps) == naive_multi_exp_mod(bases, exps, pk.nsquare)
    assert multi_exp(pk, bases[:3], [-1, -2, -3]) == naive_multi_exp_mod(bases[:3], [-1, -2, -3],
                                                                         pk.nsquare)


def test_is_a_homomorphic_dot_product(keys):
    pk, sk = keys
    weights = [secrets.randbits(16) - 2**15 for _ in range(40)]
    inputs = [secrets.randbits(50) for _ in range(40)]
    ct = multi_exp(pk, encrypt_signed(pk, weights), inputs)
    assert decrypt_signed(sk, [ct]) == [sum(w * y for w, y in zip(weights, inputs))]


def test_generic_modulus_and_length_mismatch():
    m = 2**127 - 1
    bases = [secrets.randbelow(m - 1) + 1 for _ in range(9)]
    exps = [secrets.randbits(90) for _ in range(9)]
    assert multi_exp_mod(bases, exps, m) == naive_multi_exp_mod(bases, exps, m)
    with pytest.raises(ValueError):
        multi_exp_mod(bases, exps[:-1], m)


def test_window_grows_with_the_number_of_bases():
    assert window_bits(1, 50) <= window_bits(256, 50) <= window_bits(100_000, 50)
    assert 4 <= window_bits(256, 50) <= 6
