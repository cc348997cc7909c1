"""What a worker keeps between tasks: large read-only values (fixed-base tables, a noise
pool's tables, a private key) sent to each worker once, not with every task.

A task looks its state up by a key. On a local pool, a task answers None on a miss when it was
not sent the value, and the caller (`run_parts`) resends just that part with the value (a pool
process may be sent it more than once, when a resent part lands on a process that already
had it). On a cluster the value is scattered to the workers once and every task gets a handle
to it (DaskExecutor.share); Dask gives a late or replacement worker its copy. Either way a
result never depends on which worker ran a task.

The state is per worker process, shared by the process's threads (a Dask worker runs several),
and bounded per kind, oldest first out. Which values a worker may hold is the caller's
decision: only a party's own secrets go to its own workers (docs/service.md, "Running the
cloud on a cluster").
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from veil.backends.executor import Executor

KEEP = {"tables": 8, "subsets": 4, "keys": 8, "circuits": 4}   # per worker process, per kind

_state: dict[str, dict[str, Any]] = {kind: {} for kind in KEEP}
_lock = threading.Lock()


def lookup(kind: str, key: str, value: Any, build: Callable[[Any], Any]) -> Any:
    """The state for `key`, built by build(value) on first use; None when this worker does not
    have it and `value` is None (the caller then sends it)."""
    held = _state[kind]
    with _lock:
        if key in held:
            return held[key]
    if value is None:
        return None
    made = build(value)                 # outside the lock: building tables takes seconds
    with _lock:
        if key not in held:
            while len(held) >= KEEP[kind]:
                del held[next(iter(held))]
            held[key] = made
        return held[key]


def run_parts(executor: Executor, fn: Callable, key: str, value: Any,
              parts: Sequence[Any]) -> list[Any]:
    """fn(key, None, part) for every part on the executor, then fn(key, value, part) again
    for each part whose worker answered None; the results in part order. An executor that
    can `share` (a cluster: scattered once to every worker) gets fn(key, handle, part)."""
    share = getattr(executor, "share", None)
    if share is not None:
        return _run_shared(executor, fn, key, value, parts)
    futures = [executor.submit(fn, key, None, part) for part in parts]
    results = [f.result() for f in futures]
    retries = {i: executor.submit(fn, key, value, parts[i])
               for i, got in enumerate(results) if got is None}
    return [retries[i].result() if i in retries else got for i, got in enumerate(results)]


def _run_shared(executor, fn: Callable, key: str, value: Any, parts: Sequence[Any],
                attempts: int = 3) -> list[Any]:
    """fn(key, handle, part) on a cluster; a part whose state was lost with a worker runs
    again on a fresh copy (the tasks are pure, so a rerun changes nothing)."""
    results: dict[int, Any] = {}
    for attempt in range(attempts):
        handle = executor.share(key, value, again=attempt > 0)
        futures = {i: executor.submit(fn, key, handle, parts[i])
                   for i in range(len(parts)) if i not in results}
        for i, f in futures.items():
            try:
                results[i] = f.result()
            except executor.lost:
                if attempt == attempts - 1:
                    raise
        if len(results) == len(parts):
            break
    return [results[i] for i in range(len(parts))]


def forget_all() -> None:
    """Empty this process's state (tests)."""
    with _lock:
        for held in _state.values():
            held.clear()
