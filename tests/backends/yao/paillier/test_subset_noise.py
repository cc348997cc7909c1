"""Subset-product factors (subset_noise.py): valid n-th residues, drawn from the CSPRNG, and
uniform where a key owner can look (small-prime characters), unlike the short-exponent mode."""
from __future__ import annotations

from collections import Counter

import gmpy2
import pytest

from veil.backends.yao.paillier import subset_noise
from veil.backends.executor import local_executor
from veil.backends.yao.paillier.pooled import PooledFreshNoise
from veil.backends.yao.paillier import (FreshNoise, InsecureKeyWarning, ShortExpNoise, decrypt,
                                        generate_keypair, recover_randomness)
from veil.backends.yao.paillier.subset_noise import GROUP, SubsetProductNoise, pool_size


@pytest.fixture(scope="module")
def keys():
    """512 bits with 3 | p - 1 and 3 | q - 1, so the cubic characters mod p and mod q exist."""
    with pytest.warns(InsecureKeyWarning):
        while True:
            pk, sk = generate_keypair(512)
            if (sk.p - 1) % 3 == 0 and (sk.q - 1) % 3 == 0:
                return pk, sk


@pytest.fixture(scope="module")
def source(keys):
    pk, _ = keys
    return SubsetProductNoise(pk, FreshNoise(pk).take(pool_size(pk)))


def cubic_log(z: int, prime: int) -> int:
    """The cubic character of z mod prime as an exponent in Z_3: what the key owner computes."""
    e = (prime - 1) // 3
    omega = next(pow(g, e, prime) for g in range(2, 1000) if pow(g, e, prime) != 1)
    return {1: 0, omega: 1, omega * omega % prime: 2}[pow(int(z) % prime, e, prime)]


def characters(sk, factors) -> Counter:
    """The key owner's view of each factor's randomness r, in Z_3^2 (mod p, mod q)."""
    return Counter((cubic_log(r, sk.p), cubic_log(r, sk.q))
                   for r in (recover_randomness(sk, f) for f in factors))


def test_pool_size_meets_the_leftover_hash_bound(keys):
    pk, _ = keys
    k = pool_size(pk)
    assert k % GROUP == 0
    assert k >= int(pk.n).bit_length() + 2 * subset_noise.STATISTICAL_BITS
    assert pool_size(pk, 40) < k


def test_a_short_pool_is_refused(keys):
    pk, _ = keys
    with pytest.raises(ValueError, match="a pool of 10 factors"):
        SubsetProductNoise(pk, FreshNoise(pk).take(10))


def test_factors_are_distinct_nth_residues(keys, source):
    pk, sk = keys
    factors = source.take(40)
    assert len(set(factors)) == 40
    assert decrypt(sk, factors) == [0] * 40                      # r^n is Enc(0)
    for f in factors[:5]:
        assert gmpy2.powmod(recover_randomness(sk, f), pk.n, pk.nsquare) == f


def test_a_factor_is_the_product_of_the_subset_the_csprng_chose(keys, monkeypatch):
    pk, _ = keys
    pool = FreshNoise(pk).take(pool_size(pk))
    groups = len(pool) // GROUP
    chosen = bytes([0b101] + [0] * (groups - 2) + [0b10000000])
    monkeypatch.setattr(subset_noise.secrets, "token_bytes", lambda n: chosen[:n])
    (factor,) = SubsetProductNoise(pk, pool).take(1)
    assert factor == pool[0] * pool[2] * pool[-1] % pk.nsquare


def test_characters_are_uniform_unlike_the_short_exponent_mode(keys, source):
    """The attack of test_products_randomness_is_uniform_to_the_cloud
    (packed_security/test_randomness_characters.py) on the factors themselves: 270 draws over
    Z_3^2 (30 expected per value)."""
    _, sk = keys
    seen = characters(sk, source.take(270))
    assert len(seen) == 9 and min(seen.values()) >= 5, seen
    # the same attack sees the short-exponent mode's factors on a line: 3 values at most
    pk, _ = keys
    assert len(characters(sk, ShortExpNoise(pk).take(60))) <= 3


@pytest.mark.parametrize("workers", [1, 2])
def test_pooled_noise_switches_to_subsets_after_its_threshold(keys, workers):
    pk, sk = keys
    with local_executor(workers) as executor:
        noise = PooledFreshNoise(pk, executor, switch_after=30)
        first = noise.take(20)
        assert noise._pool is None                                   # short jobs: full exponentiations
        later = noise.take(20) + noise.take(7)
        assert noise._pool is not None and len(noise._pool) == pool_size(pk)
        factors = first + later
        assert len(set(factors)) == 47 and decrypt(sk, factors) == [0] * 47
        assert len(characters(sk, later)) >= 5


def test_a_pool_is_refreshed_after_its_budget(keys):
    """At most `refresh_after` factors come from one pool; then a new pool is drawn, and the
    factors stay distinct encryptions of zero."""
    pk, sk = keys
    noise = PooledFreshNoise(pk, switch_after=0, refresh_after=25)
    first = noise.take(20)
    pool = noise._pool
    assert noise.pools_drawn == 1 and noise.from_pool == 20
    second = noise.take(10)                          # 30 > 25: a new pool before these
    assert noise.pools_drawn == 2 and noise._pool is not pool and noise.from_pool == 10
    assert set(pool).isdisjoint(noise._pool)
    factors = first + second
    assert len(set(factors)) == 30 and decrypt(sk, factors) == [0] * 30
