"""worker_state: state sent to a worker once, and a part rerun when a cluster lost its state."""
from __future__ import annotations

from concurrent.futures import Future

import pytest

from veil.backends import worker_state
from veil.backends.executor import InlineExecutor


class StateLost(Exception):
    pass


class FlakyCluster(InlineExecutor):
    """Runs here like a cluster that shares state by handle; the first `failures` tasks
    fail as if their worker died with the state's last copy."""
    parallelism = 2
    remote = True
    lost = (StateLost,)

    def __init__(self, failures: int):
        self.failures, self.shares = failures, []

    def share(self, key, value, again=False):
        self.shares.append(again)
        return value

    def submit(self, fn, /, *args):
        if self.failures:
            self.failures -= 1
            future: Future = Future()
            future.set_exception(StateLost())
            return future
        return super().submit(fn, *args)


def times(key, state, part):
    worker_state.lookup("keys", key, state, lambda v: v)
    return [state * v for v in part]


def test_a_lost_part_runs_again_on_a_fresh_copy():
    cluster = FlakyCluster(failures=1)
    assert worker_state.run_parts(cluster, times, "k", 3, [[1, 2], [3]]) == [[3, 6], [9]]
    assert cluster.shares == [False, True]           # shared, then shared again once


def test_a_state_lost_every_time_is_an_error_in_the_end():
    with pytest.raises(StateLost):
        worker_state.run_parts(FlakyCluster(failures=10), times, "k", 3, [[1], [2]])


def test_local_pool_sends_state_only_to_a_worker_without_it():
    worker_state.forget_all()
    sent = []

    class Pool(InlineExecutor):
        parallelism = 2

        def submit(self, fn, /, *args):
            sent.append(args[1] is not None)
            return super().submit(fn, *args)

    def scaled(key, state, part):
        held = worker_state.lookup("tables", key, state, lambda v: v)
        return None if held is None else [held * v for v in part]

    assert worker_state.run_parts(Pool(), scaled, "t", 5, [[1], [2]]) == [[5], [10]]
    assert sent == [False, False, True, True]         # both missed, both resent
    sent.clear()
    assert worker_state.run_parts(Pool(), scaled, "t", 5, [[1], [2]]) == [[5], [10]]
    assert sent == [False, False]                     # this "worker" holds it now
