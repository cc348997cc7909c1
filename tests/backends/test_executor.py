"""The executor seam: inline and process executors run the same pure functions to the same
results, split work into at most `parallelism` parts, and deliver a task's exception."""
import os

import pytest

from veil.backends.executor import (InlineExecutor, ProcessExecutor, default_workers,
                                    local_executor)
from veil.util.errors import UsageError


def square_all(xs):
    return [x * x for x in xs]


def fails(_):
    raise ZeroDivisionError("in the task")


def worker_pid(_):
    return os.getpid()


def run(executor, items):
    return [y for f in [executor.submit(square_all, p) for p in executor.split(items)]
            for y in f.result()]


def test_inline_and_processes_agree():
    items = list(range(37))
    with InlineExecutor() as inline, ProcessExecutor(2) as pool:
        assert run(inline, items) == run(pool, items) == [x * x for x in items]


def test_processes_run_elsewhere():
    with ProcessExecutor(2) as pool:
        pids = {pool.submit(worker_pid, i).result() for i in range(4)}
    assert os.getpid() not in pids


@pytest.mark.parametrize("n,parts", [(0, 0), (1, 1), (2, 2), (4, 3), (5, 3), (6, 3), (100, 3)])
def test_split_covers_everything_in_order(n, parts):
    class Three(InlineExecutor):
        parallelism = 3
    pieces = Three().split(list(range(n)))
    assert [x for p in pieces for x in p] == list(range(n))
    assert len(pieces) == parts and all(pieces)
    assert max(map(len, pieces), default=0) - min(map(len, pieces), default=0) <= 1


@pytest.mark.parametrize("make", [InlineExecutor, lambda: ProcessExecutor(2)])
def test_a_task_error_reaches_the_caller(make):
    with make() as executor:
        with pytest.raises(ZeroDivisionError, match="in the task"):
            executor.submit(fails, 1).result()


def test_local_executor_sizes(monkeypatch):
    monkeypatch.setenv("VEIL_WORKERS", "1")
    assert default_workers() == 1 and isinstance(local_executor(), InlineExecutor)
    pool = local_executor(3)
    assert isinstance(pool, ProcessExecutor) and pool.parallelism == 3
    pool.close()
    monkeypatch.setenv("VEIL_WORKERS", "many")
    with pytest.raises(UsageError, match="VEIL_WORKERS"):
        default_workers()
    with pytest.raises(UsageError):
        ProcessExecutor(0)
