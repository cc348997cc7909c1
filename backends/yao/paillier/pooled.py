"""Many multi-exponentiations over fixed bases (and batch decryptions), inline or spread
over worker processes.

The packed lowering's hot path is "for every patch and every block k, prod_j B_kj^(e_j)": the
bases B (packed columns) are fixed per layer, the exponents change per patch. `FixedBases`
runs that batch in this process (workers <= 1) or splits it over a process pool of `workers`
processes (both cores on this machine). Workers are spawned, not forked, because the parties
run as threads and a fork could copy a held lock. Only this process's own integers cross into
the workers (bases, exponents, results): nothing received from another party is unpickled.
"""
from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
import multiprocessing

from gmpy2 import mpz

from veil.backends.yao.paillier.fixed_base_tables import BlockPowers
from veil.backends.yao.paillier.subset_noise import SubsetProductNoise, pool_size

_pools: dict[int, ProcessPoolExecutor] = {}


def default_workers() -> int:
    """VEIL_WORKERS if set (1 turns the pool off), else every core of this machine."""
    env = os.environ.get("VEIL_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"VEIL_WORKERS={env!r} is not a number of worker processes") from None
    return os.cpu_count() or 1


def _pool(workers: int) -> ProcessPoolExecutor:
    """One pool per size for the whole process: the parties alternate, so they share it."""
    if workers not in _pools:
        _pools[workers] = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    return _pools[workers]


@atexit.register
def _shutdown() -> None:
    for pool in _pools.values():
        pool.shutdown(wait=False, cancel_futures=True)
    _pools.clear()


def _split(items: list, workers: int) -> list[list]:
    n = min(workers, len(items))
    size = -(-len(items) // n)
    return [items[i:i + size] for i in range(0, len(items), size)]


def decrypt(sk, cts: Sequence[int], workers: int = 1) -> list[int]:
    """P.decrypt, split over the pool when there is more than one worker and ciphertext."""
    from veil.backends.yao.paillier import decrypt as plain_decrypt
    cts = list(cts)
    if workers <= 1 or len(cts) < 2:
        return plain_decrypt(sk, cts)
    futures = [_pool(workers).submit(plain_decrypt, sk, part) for part in _split(cts, workers)]
    return [m for f in futures for m in f.result()]


_tables: dict[str, BlockPowers] = {}     # per worker: built on first use, then reused
_KEEP_TABLES = 8                         # layers of both parties of one session


def _powers(key: str, bases, modulus: int, low: int, high: int) -> BlockPowers:
    if key not in _tables:
        while len(_tables) >= _KEEP_TABLES:          # oldest session's tables first
            del _tables[next(iter(_tables))]
        _tables[key] = BlockPowers(bases, modulus, low, high)
    return _tables[key]


def _run_rows(key: str, bases, modulus: int, low: int, high: int,
              rows: Sequence[Sequence[int]]) -> list[list[mpz]]:
    powers = _powers(key, bases, modulus, low, high)
    return [powers.row(r) for r in rows]


class FixedBases:
    """Bases [k][j] mod `modulus` for exponents in [low, high); `products(rows)` ->
    [row][k] = prod_j B_kj^(rows[row][j]). Each process (this one, or each worker) builds
    the bases' tables (fixed_base_tables.py) once, on first use."""

    def __init__(self, bases: Sequence[Sequence[int]], modulus: int, low: int, high: int,
                 workers: int = 1):
        self.bases = [list(b) for b in bases]
        self.modulus, self.low, self.high = mpz(modulus), low, high
        self.workers = max(1, workers)
        self.key = uuid.uuid4().hex
        self._inline: BlockPowers | None = None

    def products(self, rows: Sequence[Sequence[int]]) -> list[list[mpz]]:
        rows = [list(r) for r in rows]
        if self.workers == 1 or len(rows) < 2:
            if self._inline is None:
                self._inline = BlockPowers(self.bases, self.modulus, self.low, self.high)
            return [self._inline.row(r) for r in rows]
        args = (self.key, self.bases, self.modulus, self.low, self.high)
        futures = [_pool(self.workers).submit(_run_rows, *args, part)
                   for part in _split(rows, self.workers)]
        return [r for f in futures for r in f.result()]


def _fresh_factors(pk, count: int) -> list[mpz]:
    from veil.backends.yao.paillier.noise import FreshNoise
    return FreshNoise(pk).take(count)


_subsets: dict[str, SubsetProductNoise] = {}     # per worker, like _tables; 38 MB each
_KEEP_SUBSETS = 4                        # both parties of two sessions


def _subset_factors(key: str, pk, pool, count: int) -> list[mpz] | None:
    """None when this worker has no tables for `key` yet and `pool` was not sent."""
    if key not in _subsets:
        if pool is None:
            return None
        while len(_subsets) >= _KEEP_SUBSETS:
            del _subsets[next(iter(_subsets))]
        _subsets[key] = SubsetProductNoise(pk, pool)
    return _subsets[key].take(count)


class PooledFreshNoise:
    """Uniform n-th residues (the law of FreshNoise's r^n) made on the pool.

    Every fresh factor on a ciphertext that goes to the *key owner* must have this law, not
    the short-exponent mode's: the key owner recovers a ciphertext's randomness, and a factor
    h^s from one cyclic subgroup leaves its small-prime characters (mod l | p - 1) on a line,
    so they would show a linear function of the exponents (the other party's inputs) mod l
    (tests/yao/packed_security/test_randomness_characters.py attacks exactly this).

    The first factors are full exponentiations. Once a job has asked for `switch_after`
    (default: the pool size K) the source draws K of them as a pool and makes every later
    factor a random subset product of it (subset_noise.py: the same law within 2^-81 each, at
    about a sixth of the cost), so short jobs do not pay for the pool and long ones pay for
    it at most twice over (the ski-rental rule)."""

    def __init__(self, pk, workers: int = 1, switch_after: int | None = None):
        self.pk, self.workers = pk, max(1, workers)
        self.switch_after = pool_size(pk) if switch_after is None else switch_after
        self.taken = 0
        self._pool: list[mpz] | None = None
        self._key = uuid.uuid4().hex
        self._inline: SubsetProductNoise | None = None

    def take(self, count: int) -> list[mpz]:
        if self._pool is None and self.taken + count > self.switch_after:
            self._pool = self._fresh(pool_size(self.pk))
        self.taken += count
        return self._fresh(count) if self._pool is None else self._subset(count)

    def _fresh(self, count: int) -> list[mpz]:
        if self.workers == 1 or count < 2:
            return _fresh_factors(self.pk, count)
        parts = _split(list(range(count)), self.workers)
        futures = [_pool(self.workers).submit(_fresh_factors, self.pk, len(p)) for p in parts]
        return [f for fut in futures for f in fut.result()]

    def _subset(self, count: int) -> list[mpz]:
        if self.workers == 1 or count < 2:
            if self._inline is None:
                self._inline = SubsetProductNoise(self.pk, self._pool)
            return self._inline.take(count)
        sizes = [len(p) for p in _split(list(range(count)), self.workers)]
        futures = [_pool(self.workers).submit(_subset_factors, self._key, self.pk, None, n)
                   for n in sizes]
        parts = [f.result() for f in futures]
        retries = {i: _pool(self.workers).submit(_subset_factors, self._key, self.pk,
                                                 self._pool, sizes[i])
                   for i, got in enumerate(parts) if got is None}   # a worker's first request
        return [f for i, got in enumerate(parts)
                for f in (retries[i].result() if i in retries else got)]
