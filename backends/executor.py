"""Where heavy work runs: one executor object, made once and held by the parties.

The secure backend's hot loops (multi-exponentiations over fixed bases, batch decryptions,
fresh encryption factors) are pure functions of their arguments, so they can run here, on a
pool of local processes, or (next) on a cluster. The parties never see which: they hold an
`Executor`, ask it how many parts to split a batch into (`parallelism`), and `submit` pure
functions. Only a party's own integers cross into a worker (bases, exponents, results):
nothing received from another party is unpickled.

`InlineExecutor` runs in the calling thread; `ProcessExecutor` owns a pool of spawned
processes (spawned, not forked: the parties run as threads, and a fork could copy a held
lock); a spawned process imports the main script, so a pool is refused up front when made
from a script's unguarded top level (util/main_guard.py). A party that is given no
executor runs inline.
"""
from __future__ import annotations

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from veil.util.errors import UsageError
from veil.util.main_guard import require_main_guard


class Executor(ABC):
    """Runs pure functions, possibly elsewhere; `parallelism` parts keep it busy. `remote`
    executors (a cluster) get every task, however small: their machines are meant to do the
    work; a local pool of one process is no better than this thread, so callers run small or
    unsplittable work inline there."""
    parallelism: int = 1
    remote: bool = False

    @abstractmethod
    def submit(self, fn: Callable, /, *args) -> Future:
        """Start fn(*args); the future's result is its return value (or its exception)."""

    def split(self, items: list) -> list[list]:
        """`items` in at most `parallelism` contiguous, nearly equal, non-empty parts."""
        n = min(self.parallelism, len(items))
        size, extra = divmod(len(items), n) if n else (0, 0)
        bounds = [k * size + min(k, extra) for k in range(n + 1)]
        return [items[bounds[k]:bounds[k + 1]] for k in range(n)]

    def describe(self) -> str:
        return f"{self.parallelism} worker process(es)"

    def for_job(self) -> "Executor":
        """The executor one job (a user's session) should use: itself here; a cluster ranks
        each job's tasks by the work the job has had so far (DaskExecutor.for_job)."""
        return self

    def close(self) -> None:
        """Release the workers; the executor is not used afterwards."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InlineExecutor(Executor):
    """Everything in the calling thread: the default for a party given no executor."""
    parallelism = 1

    def submit(self, fn: Callable, /, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:          # delivered by future.result(), as a pool would
            future.set_exception(exc)
        return future

    def describe(self) -> str:
        return "this process only"


class ProcessExecutor(Executor):
    """A pool of `processes` spawned worker processes, started on first use."""

    def __init__(self, processes: int):
        if processes < 1:
            raise UsageError(f"a process pool needs at least 1 process, not {processes}")
        require_main_guard(f"starting {processes} worker processes")
        self.parallelism = processes
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable, /, *args) -> Future:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.parallelism,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def default_workers() -> int:
    """VEIL_WORKERS if set (1 turns the pool off), else every core of this machine."""
    env = os.environ.get("VEIL_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise UsageError(f"VEIL_WORKERS={env!r} is not a number of worker processes") from None
    return os.cpu_count() or 1


def local_executor(workers: int | None = None) -> Executor:
    """`workers` local processes (default: default_workers()); one means inline."""
    n = default_workers() if workers is None else workers
    return InlineExecutor() if n <= 1 else ProcessExecutor(n)
