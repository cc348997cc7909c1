"""The secure backend on a Dask cluster of this machine against the local process pool, in one
run: patches per second with 1 and 2 Dask workers and with the local pool of 2, the bytes
shipped per task (arguments and results, pickled), the scheduler's overhead per task, and
from those a model of throughput on N machines.

    python bench/bench_dask.py [--model compact] [--key-bits 2048] [--patches 64]

Each configuration runs the patches twice on one backend: the first run pays provisioning,
tables and pools; the second (steady state) is what the rates are. "serving CPU" is the CPU
of this process (the parties' threads: garbling, OT, framing, task submission) per patch:
the part that does not scale out, so it bounds the throughput of one serving process.
"resend" is the local pool's way of moving state (sent with a task only to a worker that
lacks it) instead of scattering it, for comparison.
"""
from __future__ import annotations

import argparse
import os
import pickle
import time
import warnings

import numpy as np

from distributed import Future as DaskFuture

from veil.backends.dask_executor import DaskExecutor
from veil.backends.executor import ProcessExecutor
from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao.backend import YaoBackend
from veil.models.catalog import compile_model


class Weighing:
    """Passes tasks to an executor and adds up the pickled size of what crosses."""

    def __init__(self, inner, scatter: bool = True):
        self.inner, self.parallelism = inner, inner.parallelism
        self.remote = getattr(inner, "remote", False)
        if scatter and hasattr(inner, "share"):     # a cluster: state scattered, not sent
            self.share, self.lost = inner.share, inner.lost
        self.tasks = self.sent = self.received = 0

    def split(self, items):
        return self.inner.split(items)

    def submit(self, fn, *args):
        self.tasks += 1
        # a handle to scattered state crosses as its key
        weighed = tuple(a.key if isinstance(a, DaskFuture) else a for a in args)
        self.sent += len(pickle.dumps((fn, weighed)))
        future = self.inner.submit(fn, *args)
        future.add_done_callback(self._weigh)
        return future

    def _weigh(self, future) -> None:
        try:
            self.received += len(pickle.dumps(future.result()))
        except Exception:                       # a failed task is the caller's to report
            pass


def steady_rate(program, x, executor, scatter: bool = True) -> dict:
    weighed = Weighing(executor, scatter)
    backend = YaoBackend(executor=weighed)
    backend.run_fixed(program, x[:16])                   # provisioning, tables, pools
    weighed.tasks = weighed.sent = weighed.received = 0
    t, cpu = time.perf_counter(), time.process_time()
    out = backend.run_fixed(program, x)
    wall, serving = time.perf_counter() - t, time.process_time() - cpu
    assert np.array_equal(out, PlaintextBackend().run_fixed(program, x)), "not bit-identical"
    return {"rate": len(x) / wall, "serving_cpu": serving / len(x), "tasks": weighed.tasks,
            "per_task": (weighed.sent + weighed.received) / max(weighed.tasks, 1),
            "per_patch": (weighed.sent + weighed.received) / len(x)}


def scheduler_overhead(executor, count: int = 400) -> float:
    """Seconds per task of submitting and gathering a task that does nothing."""
    t = time.perf_counter()
    futures = [executor.submit(int, i) for i in range(count)]
    for f in futures:
        f.result()
    return (time.perf_counter() - t) / count


def main() -> None:
    from distributed import LocalCluster
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="compact")
    ap.add_argument("--key-bits", type=int, default=2048)
    ap.add_argument("--patches", type=int, default=64)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    program = compile_model(a.model, "packed", key_bits=a.key_bits)
    fmt, n_in = program.model.input_format, program.model.layers[0].n_in
    x = np.random.default_rng(0).integers(fmt.min_int, fmt.max_int + 1, (a.patches, n_in))
    print(f"{a.model}, {a.key_bits}-bit keys, {a.patches} patches in steady state; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} at the start", flush=True)
    rows = []
    with ProcessExecutor(2) as pool:
        rows.append(("local pool, 2 processes", steady_rate(program, x, pool), None))
    for workers, scatter in ((1, True), (2, True), (2, False)):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, host="127.0.0.1") as cluster, \
                DaskExecutor(cluster.scheduler_address) as ex:
            name = f"Dask, {workers} worker(s)" + ("" if scatter else ", resend")
            rows.append((name, steady_rate(program, x, ex, scatter), scheduler_overhead(ex)))
    base = rows[0][1]["rate"]
    print(f"{'executor':<26} {'patches/s':>9} {'vs pool':>7} {'serving CPU/patch':>17} "
          f"{'tasks/patch':>11} {'KB/task':>8} {'KB/patch':>8} {'overhead/task':>13}")
    for name, r, over in rows:
        print(f"{name:<26} {r['rate']:>9.2f} {r['rate'] / base:>7.2f} "
              f"{r['serving_cpu'] * 1e3:>14.0f} ms {r['tasks'] / a.patches:>11.1f} "
              f"{r['per_task'] / 1e3:>8.1f} {r['per_patch'] / 1e3:>8.1f} "
              + (f"{over * 1e3:>10.2f} ms" if over is not None else f"{'-':>13}"))
    one, serving = rows[1][1]["rate"], rows[2][1]["serving_cpu"]
    print(f"model: N single-thread workers give about min(N x {one:.2f}, 1 / {serving:.3f} s) "
          "patches/s per serving process (the serving CPU does not scale out):")
    for n in (2, 4, 8, 16, 32):
        print(f"  N = {n:>2}: {min(n * one, 1 / serving):.1f} patches/s, a 512x512 image "
              f"(4,096 patches) in {4096 / min(n * one, 1 / serving) / 60:.1f} min")


if __name__ == "__main__":
    main()
