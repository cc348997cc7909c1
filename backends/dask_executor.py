"""The executor on a Dask cluster (`distributed`): the heavy work of a party on many machines.

`DaskExecutor(address)` connects a `distributed.Client` to a running scheduler
(`dask scheduler`, then `dask worker ADDRESS` on each machine) and submits the same pure
functions the local pool runs: multi-exponentiations over fixed bases, batch decryptions,
fresh and subset-product noise factors. Each is a function of its arguments, or draws its
randomness inside and returns only the factors it made, so the scheduler may rerun a task on
another worker when one dies without changing what any party computes. Large read-only state
(fixed-base tables, a noise pool's tables, the party's private key) goes to each worker once
(worker_state.py), never with every task. Tasks are submitted with pure=False: two equal
calls must not be merged (the noise they draw differs).

`make_executor(workers, dask)` is what the command line uses: a cluster when given an
address, else the local process pool (veil.backends.executor), which stays the default.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future

from veil.backends.executor import Executor, local_executor
from veil.util.errors import UsageError

_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
CONNECT_SECONDS = 20


def check_address(address: str) -> str:
    if not _ADDRESS.match(address):
        raise UsageError(f"--dask {address!r}: expected a scheduler address such as "
                         "tcp://10.0.0.5:8786")
    return address


class DaskExecutor(Executor):
    """Submits to the workers of the Dask scheduler at `address`; one part per worker
    thread keeps them busy."""
    remote = True

    def __init__(self, address: str, timeout: float = CONNECT_SECONDS):
        from distributed import Client          # imported when a cluster is asked for
        self.address = check_address(address)
        try:
            self._client = Client(address, timeout=timeout, set_as_default=False)
        except OSError as exc:
            raise UsageError(f"--dask {address}: no Dask scheduler answered ({exc})") from None
        nthreads = self._client.nthreads()
        threads, self.workers = sum(nthreads.values()), len(nthreads)
        if threads == 0:
            self._client.close()
            raise UsageError(f"--dask {address}: the scheduler has no workers")
        self.parallelism = threads

    def submit(self, fn: Callable, /, *args) -> Future:
        return self._client.submit(fn, *args, pure=False)

    def describe(self) -> str:
        return (f"Dask cluster {self.address}: {self.workers} worker(s), "
                f"{self.parallelism} thread(s) when it connected")

    def close(self) -> None:
        self._client.close()


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """The cluster at `dask` if given (then `workers` must not be), else `workers` local
    processes (veil.backends.executor.local_executor)."""
    if dask is None:
        return local_executor(workers)
    if workers is not None:
        raise UsageError("--workers and --dask exclude each other: a cluster's size is its "
                         "workers'")
    return DaskExecutor(dask)
