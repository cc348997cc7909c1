"""Uniform Paillier randomness at a sixth of the cost: products of random subsets of a pool.

A fresh factor r^n mod n^2 with r uniform in Z*_n (FreshNoise) is one full exponentiation,
10.7 ms at 2048 bits; the packed lowering needs two per block per patch towards the key
owners, which must be uniform (pooled.PooledFreshNoise says why). Here, once:
K = |n| + 2 sigma pool elements g_i = r_i^n, each r_i uniform (K full exponentiations); then
each factor is prod_{i in S} g_i for a fresh uniform subset S (K bits from the CSPRNG).

Why that has (statistically) the law of r^n: the n-th residues mod n^2 form a group G of
order phi(n) < 2^|n|, and the pool is uniform in G^K. The family h_g(S) = prod_{i in S} g_i
is universal: for S != S', h_g(S) = h_g(S') iff prod_i g_i^(d_i) = 1 with d = 1_S - 1_S' in
{-1, 0, 1}^K not all zero, and some g_i^(+-1) is uniform in G given the others, so this has
probability 1/|G|. By the leftover hash lemma, (g, h_g(S)) is within 1/2 sqrt(|G| / 2^K) <=
2^-(sigma + 1) of (g, uniform), *even given the pool*; factors use independent subsets, so T
factors are within T 2^-(sigma + 1) of T independent uniform ones (hybrid argument). With
sigma = 80, a million factors (a dozen 512x512 images) stay within 2^-61. (This is the
Boyko-Peinado-Venkatesan generator with a pool large enough for the statistical argument;
the hidden-subset-sum attacks on its short-pool variants do not apply.)

Cost: subset tables over groups of 8 pool elements (as fixed_base_tables.py) make a factor
K / 8 multiplications, about 1.7 ms at 2048 bits; the tables are 2^8 K / 8 residues (36 MB)
and 2^8 K / 8 multiplications, built once.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np
from gmpy2 import mpz

from veil.backends.yao.paillier.fixed_base_tables import SubsetTables
from veil.backends.yao.paillier.keys import PublicKey

STATISTICAL_BITS = 80
GROUP = 8                  # pool elements per table: a subset of a group is one random byte


def pool_size(pk: PublicKey, statistical_bits: int = STATISTICAL_BITS) -> int:
    """K = |n| + 2 sigma, rounded up to whole groups."""
    k = int(pk.n).bit_length() + 2 * statistical_bits
    return -(-k // GROUP) * GROUP


class SubsetProductNoise:
    """Factors prod_{i in S} pool_i for uniform subsets S; `pool` must be pool_size(pk)
    independent FreshNoise factors (made by the caller, which may spread them over workers)."""

    def __init__(self, pk: PublicKey, pool: Sequence[int]):
        if len(pool) != pool_size(pk):
            raise ValueError(f"a pool of {len(pool)} factors, {pool_size(pk)} needed")
        self.pk = pk
        self.tables = SubsetTables([mpz(g) for g in pool], pk.nsquare, GROUP, 0)

    def take(self, count: int) -> list[mpz]:
        groups = len(self.tables.tables)
        return [self.tables.power(
                    np.frombuffer(secrets.token_bytes(groups), np.uint8).astype(np.int64)[None, :])
                for _ in range(count)]
