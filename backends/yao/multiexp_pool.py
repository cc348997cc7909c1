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

from veil.backends.yao.fixed_base_tables import BlockPowers

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
    from veil.backends.yao.paillier_noise import FreshNoise
    return FreshNoise(pk).take(count)


class PooledFreshNoise:
    """FreshNoise (r^n for r uniform in Z*_n: a full exponentiation each) made on the pool.

    Every fresh factor on a ciphertext that goes to the *key owner* must be this, not the
    short-exponent mode: the key owner recovers a ciphertext's randomness, and a factor h^s
    from one cyclic subgroup leaves its small-prime characters (mod l | p - 1) on a line, so
    they would show a linear function of the exponents (the other party's inputs) mod l
    (tests/yao/test_packed_security.py attacks exactly this)."""

    def __init__(self, pk, workers: int = 1):
        self.pk, self.workers = pk, max(1, workers)

    def take(self, count: int) -> list[mpz]:
        if self.workers == 1 or count < 2:
            return _fresh_factors(self.pk, count)
        parts = _split(list(range(count)), self.workers)
        futures = [_pool(self.workers).submit(_fresh_factors, self.pk, len(p)) for p in parts]
        return [f for fut in futures for f in fut.result()]
