"""The executor on a Dask cluster (`distributed`): the heavy work of a party on many machines.

`DaskExecutor(address)` connects a `distributed.Client` to a running scheduler
(`dask scheduler`, then `dask worker ADDRESS` on each machine) and submits the same pure
functions the local pool runs: multi-exponentiations over fixed bases, batch decryptions,
fresh and subset-product noise factors. Each is a function of its arguments, or draws its
randomness inside and returns only the factors it made, so the scheduler may rerun a task on
another worker when one dies without changing what any party computes. Large read-only state
(the bases of fixed-base tables, a noise pool, the party's private key) is scattered to the
workers once (`share`) and tasks take a handle to it; each worker builds its tables from it
once (worker_state.py), never once per task. Tasks are submitted with pure=False: two equal
calls must not be merged (the noise they draw differs).

`make_executor(workers, dask)` is what the command line uses: a cluster when given an
address, else the local process pool (veil.backends.executor), which stays the default.
"""
from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future

from veil.backends.executor import Executor, local_executor
from veil.util.errors import UsageError

_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
CONNECT_SECONDS = 20
SHARED = 32               # values scattered at once: a few sessions' tables, pools and keys


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
        self._shared: dict[str, Future] = {}
        self._lock = threading.Lock()           # lanes share the executor

    def submit(self, fn: Callable, /, *args, priority: int = 0) -> Future:
        return self._client.submit(fn, *args, pure=False, priority=priority)

    def for_job(self) -> Executor:
        return JobExecutor(self)

    @property
    def lost(self) -> tuple[type[BaseException], ...]:
        """Errors after which a part is run again on a fresh copy of its state: a killed
        worker can take a scattered value's last copy with it, and the scheduler then
        cancels the tasks that needed it."""
        from distributed.client import FutureCancelledError
        return (FutureCancelledError,)

    def share(self, key: str, value, again: bool = False):
        """`value` on every worker once (scattered, broadcast), as a handle tasks take in its
        place: Dask hands each task the worker's own copy, and gives a worker that joins or
        replaces a dead one a copy when it needs it; `again` scatters a fresh copy. Kept for
        the newest SHARED keys."""
        with self._lock:
            if again:
                self._shared.pop(key, None)
            if key not in self._shared:
                while len(self._shared) >= SHARED:
                    del self._shared[next(iter(self._shared))]    # Dask forgets it
                self._shared[key] = self._client.scatter({key: value}, broadcast=True,
                                                         hash=False)[key]
            return self._shared[key]

    def describe(self) -> str:
        return (f"Dask cluster {self.address}: {self.workers} worker(s), "
                f"{self.parallelism} thread(s) when it connected")

    def close(self) -> None:
        self._client.close()


class JobExecutor(Executor):
    """One job's view of a cluster shared by many (the cloud serving several users). Its k-th
    task goes in with priority -k, so among tasks waiting for a worker, those of the job that
    has had the least work so far go first (least attained service): a 64x64 image started
    beside a 512x512 one is not queued behind it, and the large job still gets every worker
    thread the small one leaves idle."""
    remote = True

    def __init__(self, cluster: DaskExecutor):
        self.cluster, self.parallelism = cluster, cluster.parallelism
        self._count = itertools.count()          # next() is atomic under the GIL

    def submit(self, fn: Callable, /, *args) -> Future:
        return self.cluster.submit(fn, *args, priority=-next(self._count))

    @property
    def lost(self):
        return self.cluster.lost

    def share(self, key: str, value, again: bool = False):
        return self.cluster.share(key, value, again)

    def describe(self) -> str:
        return self.cluster.describe()


def make_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """The cluster at `dask` if given (then `workers` must not be), else `workers` local
    processes (veil.backends.executor.local_executor)."""
    if dask is None:
        return local_executor(workers)
    if workers is not None:
        raise UsageError("--workers and --dask exclude each other: a cluster's size is its "
                         "workers'")
    return DaskExecutor(dask)
