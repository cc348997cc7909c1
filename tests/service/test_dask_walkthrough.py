"""The cloud on a cluster, as an operator would start it: `dask scheduler` and two
`dask worker` processes from their command lines on loopback, `veil cloud serve --dask` against
them, then an owner's publish and two users' `veil user denoise` at the same time (one of them
with `--dask` for its own side); both results equal to plaintext byte for byte, and the
cluster's workers did the heavy work."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .cloud_testkit import Cloud, denoise, env, make_world, publish, same_as_plaintext

pytest.importorskip("distributed")


def start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "w") as f:
        return subprocess.Popen([sys.executable, "-m", *args], env=env(), stdout=f, stderr=f)


def wait_for(log: Path, pattern: str, proc: subprocess.Popen, what: str) -> re.Match:
    for _ in range(600):
        m = re.search(pattern, log.read_text())
        if m or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert m, f"{what} did not start:\n{log.read_text()}"
    return m


@pytest.fixture
def dask_cluster(tmp_path):
    """(scheduler address, [worker logs]) of a scheduler and two single-threaded workers."""
    procs = []
    try:
        log = tmp_path / "scheduler.log"
        procs.append(start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                            "0", "--no-dashboard"], log))
        address = wait_for(log, r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", procs[0],
                           "the scheduler").group(1)
        logs = []
        for i in range(2):
            logs.append(tmp_path / f"worker{i}.log")
            procs.append(start(["distributed.cli.dask_worker", address, "--nthreads", "1",
                                "--host", "127.0.0.1", "--no-dashboard"], logs[-1]))
            wait_for(logs[-1], r"Registered to:", procs[-1], f"worker {i}")
        yield address, logs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def cluster_task_prefixes(address: str) -> set[str]:
    """The names of the functions the scheduler has run tasks of (it keeps them for its
    statistics after the tasks are gone)."""
    from distributed import Client
    with Client(address, set_as_default=False) as client:
        return set(client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)))


@pytest.mark.slow       # about a minute: five processes and a dozen CLI calls
def test_cloud_serve_on_a_dask_cluster_two_users_at_once(tmp_path, monkeypatch, dask_cluster):
    address, worker_logs = dask_cluster
    world = make_world(tmp_path, monkeypatch)
    tmp, local_cloud = next(world)
    local_cloud.stop()                              # the same store, now served on the cluster
    cloud = Cloud(tmp / "store", "--dask", address)
    try:
        assert f"heavy work on Dask cluster {address}: 2 worker(s)" in cloud.log
        publish(tmp, cloud, "alice", "tiny-a")
        publish(tmp, cloud, "bob", "tiny-b")
        results = {}

        def run(user, model, image, out, *extra):
            results[user] = denoise(tmp, cloud, user, model, image, out, *extra, check=False)

        # alice's own heavy work goes to the cluster too (`veil user denoise --dask`)
        jobs = [threading.Thread(target=run, args=("alice", "tiny-a", "large.png", "a.png",
                                                   "--dask", address)),
                threading.Thread(target=run, args=("bob", "tiny-b", "small.png", "b.png"))]
        for j in jobs:
            j.start()
        for j in jobs:
            j.join(600)
        for user, res in results.items():
            assert res.returncode == 0, f"{user}: {res.stderr}"
        assert same_as_plaintext(tmp, "large.png", "a.png")
        assert same_as_plaintext(tmp, "small.png", "b.png")
        ran = cluster_task_prefixes(address)
        heavy = {"run_rows", "decrypt_part", "subset_factors", "garble_part"}
        assert heavy <= ran, ran
    finally:
        cloud.stop()
