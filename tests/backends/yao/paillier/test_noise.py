"""Rerandomisation factors: every source yields fresh n-th residues; a pool never repeats one."""
from __future__ import annotations

import gmpy2
import pytest

from veil.backends.yao.paillier import (
    CrtNoise, FreshNoise, InsecureKeyWarning, NoisePool, PoolExhausted, ShortExpNoise, decrypt,
    encrypt, generate_keypair, recover_randomness, rerandomise)


@pytest.fixture(scope="module")
def keys():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(512)


def _sources(pk, sk):
    return [FreshNoise(pk), CrtNoise(sk), ShortExpNoise(pk), NoisePool(FreshNoise(pk), 4)]


def test_factors_are_distinct_encryptions_of_zero(keys):
    pk, sk = keys
    for source in _sources(pk, sk):
        factors = source.take(12)
        assert len(factors) == 12 and len(set(factors)) == 12, source
        assert decrypt(sk, factors) == [0] * 12                  # r^n is Enc(0)
        for f in factors[:3]:
            r = recover_randomness(sk, f)
            assert gmpy2.powmod(r, pk.n, pk.nsquare) == f


def test_pool_never_hands_out_the_same_factor_twice(keys):
    pk, _ = keys
    pool = NoisePool(FreshNoise(pk), size=20)
    assert len(pool) == 20
    handed = pool.take(7) + [pool.take(1)[0] for _ in range(5)] + pool.take(8)
    assert len(pool) == 0
    assert len(set(handed)) == 20 and len({id(f) for f in handed}) == 20
    refill = pool.take(5)                                        # computed on demand
    assert len(set(handed + refill)) == 25


def test_strict_pool_refuses_to_compute_online(keys):
    pk, _ = keys
    pool = NoisePool(ShortExpNoise(pk), size=3, strict=True)
    first = pool.take(2)
    with pytest.raises(PoolExhausted):
        pool.take(2)
    last = pool.take(1)
    assert len(set(first + last)) == 3
    with pytest.raises(PoolExhausted):
        pool.take(1)


def test_short_exponent_table_computes_h_n_to_the_s(keys):
    pk, _ = keys
    noise = ShortExpNoise(pk, exp_bits=230, window=5)
    for s in (0, 1, 2**229, 2**230 - 1, 123456789 << 100):
        assert noise._power(s) == gmpy2.powmod(noise.h_n, s, pk.nsquare)


def test_short_exponents_below_the_floor_are_refused(keys):
    pk, _ = keys
    with pytest.raises(ValueError):
        ShortExpNoise(pk, exp_bits=80)                           # 2 x kappa is not enough


def test_empty_requests_and_foreign_sources(keys):
    pk, sk = keys
    for source in _sources(pk, sk):
        assert source.take(0) == [] and source.pk == pk
    with pytest.warns(InsecureKeyWarning):
        other, _ = generate_keypair(512)
    with pytest.raises(ValueError, match="different Paillier key"):
        encrypt(other, [1], CrtNoise(sk))
    with pytest.raises(ValueError, match="different Paillier key"):
        rerandomise(other, 5, NoisePool(FreshNoise(pk)))
