"""Many multi-exponentiations over fixed bases (and batch decryptions), inline or spread
over an executor's workers (veil.backends.executor).

The packed lowering's hot path is "for every patch and every block k, prod_j B_kj^(e_j)": the
bases B (packed columns) are fixed per layer, the exponents change per patch. `FixedBases`
runs that batch in this process (an executor of parallelism 1) or splits it over the
executor's workers. Only this process's own integers cross into the workers (bases,
exponents, results): nothing received from another party is unpickled. Each worker keeps
the tables it built (keyed by a random id) and the private key it was sent (keyed by its
modulus' hash): they cross once per worker (worker_state.py), not with every task.
"""
from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Sequence

from gmpy2 import mpz

from veil.backends.executor import Executor, InlineExecutor
from veil.backends.worker_state import lookup, run_parts
from veil.backends.yao.paillier import decrypt as decrypt_crt

from veil.backends.yao.paillier.fixed_base_tables import BlockPowers
from veil.backends.yao.paillier.subset_noise import SubsetProductNoise, pool_size

POOL_REFRESH_PRODUCTS = 1 << 32   # factors one pool may serve before a new one is drawn

def _inline(executor: Executor | None, count: int) -> bool:
    """Run here: no executor, or a local one with nothing to gain (one process, one item)."""
    if executor is None or getattr(executor, "remote", False):
        return executor is None
    return executor.parallelism == 1 or count < 2


def _key_id(sk) -> str:
    """Names a private key in the workers' state without naming it: its public modulus."""
    return "sk:" + hashlib.sha256(str(sk.public.n).encode()).hexdigest()[:32]


def _decrypt_part(key: str, sk, cts: Sequence[int]) -> list[int] | None:
    held = lookup("keys", key, sk, lambda v: v)
    return None if held is None else decrypt_crt(held, cts)


def decrypt(sk, cts: Sequence[int], executor: Executor | None = None) -> list[int]:
    """CRT decryption of many ciphertexts, split over the executor's workers (the key goes to
    each worker once: worker_state.py)."""
    cts = list(cts)
    if _inline(executor, len(cts)):
        return decrypt_crt(sk, cts)
    parts = run_parts(executor, _decrypt_part, _key_id(sk), sk, executor.split(cts))
    return [m for part in parts for m in part]


def _run_rows(key: str, tables_from, rows: Sequence[Sequence[int]]) -> list[list[mpz]] | None:
    """None when this worker has no tables for `key` yet and `tables_from` was not sent."""
    powers = lookup("tables", key, tables_from, lambda args: BlockPowers(*args))
    return None if powers is None else [powers.row(r) for r in rows]


class FixedBases:
    """Bases [k][j] mod `modulus` for exponents in [low, high); `products(rows)` ->
    [row][k] = prod_j B_kj^(rows[row][j]). Each process (this one, or each worker) builds
    the bases' tables (fixed_base_tables.py) once, on first use; the bases cross to a worker
    only when it asks for them (its first task for this key), not with every task."""

    def __init__(self, bases: Sequence[Sequence[int]], modulus: int, low: int, high: int,
                 executor: Executor | None = None):
        self.bases = [list(b) for b in bases]
        self.modulus, self.low, self.high = mpz(modulus), low, high
        self.executor = executor or InlineExecutor()
        self.key = uuid.uuid4().hex
        self._inline: BlockPowers | None = None

    def products(self, rows: Sequence[Sequence[int]]) -> list[list[mpz]]:
        rows = [list(r) for r in rows]
        if _inline(self.executor, len(rows)):
            if self._inline is None:
                self._inline = BlockPowers(self.bases, self.modulus, self.low, self.high)
            return [self._inline.row(r) for r in rows]
        tables_from = (self.bases, self.modulus, self.low, self.high)
        parts = run_parts(self.executor, _run_rows, self.key, tables_from,
                          self.executor.split(rows))
        return [r for part in parts for r in part]


def _fresh_factors(pk, count: int) -> list[mpz]:
    from veil.backends.yao.paillier.noise import FreshNoise
    return FreshNoise(pk).take(count)


def _subset_factors(key: str, pool_of, count: int) -> list[mpz] | None:
    """None when this worker has no tables for `key` yet and `pool_of` (pk, pool) was not
    sent; the tables take about 38 MB per pool (worker_state.KEEP bounds them)."""
    noise = lookup("subsets", key, pool_of, lambda args: SubsetProductNoise(*args))
    return None if noise is None else noise.take(count)


class PooledFreshNoise:
    """Uniform n-th residues (the law of FreshNoise's r^n) made on the pool.

    Every fresh factor on a ciphertext that goes to the *key owner* must have this law, not
    the short-exponent mode's: the key owner recovers a ciphertext's randomness, and a factor
    h^s from one cyclic subgroup leaves its small-prime characters (mod l | p - 1) on a line,
    so they would show a linear function of the exponents (the other party's inputs) mod l
    (tests/backends/yao/lowerings/packed/security/test_randomness_characters.py attacks it).

    The first factors are full exponentiations. Once a job has asked for `switch_after`
    (default: the pool size K) the source draws K of them as a pool and makes every later
    factor a random subset product of it (subset_noise.py: the same law within 2^-81 each, at
    about a sixth of the cost), so short jobs do not pay for the pool and long ones pay for
    it at most twice over (the ski-rental rule). A pool serves at most `refresh_after`
    factors (2^32 by default), then a new one is drawn: the statistical distance grows by
    2^-81 per factor, so a bound on the factors per pool is a bound per deployment too
    (docs/protocol.md, "Encryption noise")."""

    def __init__(self, pk, executor: Executor | None = None, switch_after: int | None = None,
                 refresh_after: int = POOL_REFRESH_PRODUCTS):
        self.pk, self.executor = pk, executor or InlineExecutor()
        self.switch_after = pool_size(pk) if switch_after is None else switch_after
        self.refresh_after = refresh_after
        self.taken = 0
        self.from_pool = 0           # factors made from the current pool
        self.pools_drawn = 0
        self._pool: list[mpz] | None = None
        self._key = uuid.uuid4().hex
        self._inline: SubsetProductNoise | None = None
        self._lock = threading.Lock()     # concurrent sessions (lanes) share one source

    def take(self, count: int) -> list[mpz]:
        """`count` uniform factors; safe to call from several threads at once (the counters
        and a new pool are settled under a lock, the factors made outside it)."""
        with self._lock:
            first = self._pool is None and self.taken + count > self.switch_after
            spent = self._pool is not None and self.from_pool + count > self.refresh_after
            if first or spent:
                self._new_pool()
            self.taken += count
            if self._pool is None:
                pool = None
            else:
                self.from_pool += count
                pool, key = self._pool, self._key
                if _inline(self.executor, count):     # one table, used under the lock
                    if self._inline is None:
                        self._inline = SubsetProductNoise(self.pk, self._pool)
                    return self._inline.take(count)
        if pool is None:
            return self._fresh(count)
        return self._subset(count, key, pool)

    def _new_pool(self) -> None:
        """A fresh pool (and a fresh key for the workers' tables of it)."""
        self._pool = self._fresh(pool_size(self.pk))
        self._key, self._inline, self.from_pool = uuid.uuid4().hex, None, 0
        self.pools_drawn += 1

    def _fresh(self, count: int) -> list[mpz]:
        if _inline(self.executor, count):
            return _fresh_factors(self.pk, count)
        parts = self.executor.split(list(range(count)))
        futures = [self.executor.submit(_fresh_factors, self.pk, len(p)) for p in parts]
        return [f for fut in futures for f in fut.result()]

    def _subset(self, count: int, key: str, pool: list[mpz]) -> list[mpz]:
        sizes = [len(p) for p in self.executor.split(list(range(count)))]
        parts = run_parts(self.executor, _subset_factors, key, (self.pk, pool), sizes)
        return [f for part in parts for f in part]
