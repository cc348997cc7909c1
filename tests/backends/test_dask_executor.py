"""The executor on a real Dask cluster (a LocalCluster of two worker processes on loopback):
the secure backend equal to plaintext through it, state sent to each worker once, a worker
killed mid-job, and one-line refusals for a bad or silent address."""
from __future__ import annotations

import os
import signal
import time
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from veil.backends.dask_executor import DaskExecutor, make_executor
from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao import paillier as P
from veil.backends.yao.backend import YaoBackend
from veil.backends.yao.lowerings.garbling_parts import circuit_key
from veil.backends.yao.paillier.pooled import FixedBases
from veil.cli import main
from veil.models.catalog import compile_model
from veil.util.errors import UsageError

distributed = pytest.importorskip("distributed")
BITS = 768


@pytest.fixture(scope="module")
def cluster():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, host="127.0.0.1") as c:
            yield c


@pytest.fixture(scope="module")
def tiny():
    return compile_model("tiny", "packed", key_bits=BITS)


def patches(program, count: int, seed: int) -> np.ndarray:
    fmt, n_in = program.model.input_format, program.model.layers[0].n_in
    return np.random.default_rng(seed).integers(fmt.min_int, fmt.max_int + 1, (count, n_in))


def secure(program, x, executor) -> np.ndarray:
    backend = YaoBackend(executor=executor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return backend.run_fixed(program, x)


def test_yao_on_the_cluster_equals_plaintext(cluster, tiny):
    x = patches(tiny, 40, seed=1)
    with DaskExecutor(cluster.scheduler_address) as ex:
        assert ex.parallelism == 2 and "2 worker(s)" in ex.describe()
        assert np.array_equal(secure(tiny, x, ex), PlaintextBackend().run_fixed(tiny, x))


def test_veil_denoise_with_dask(cluster, tmp_path):
    img = (128 + 40 * np.random.default_rng(3).standard_normal((8, 8))).clip(0, 255)
    Image.fromarray(img.astype(np.uint8)).save(tmp_path / "n.png")
    runner = CliRunner()
    a = runner.invoke(main, ["denoise", str(tmp_path / "n.png"), "-o", str(tmp_path / "y.png"),
                             "--model", "tiny", "--backend", "yao", "--key-bits", str(BITS),
                             "--dask", cluster.scheduler_address, "--quiet"])
    assert a.exit_code == 0, a.output + a.stderr
    assert "Dask cluster" in a.stderr
    b = runner.invoke(main, ["denoise", str(tmp_path / "n.png"), "-o", str(tmp_path / "p.png"),
                             "--model", "tiny", "--backend", "plaintext", "--quiet"])
    assert b.exit_code == 0
    assert (tmp_path / "y.png").read_bytes() == (tmp_path / "p.png").read_bytes()


class Recording:
    """Wraps an executor and records what each task was sent."""

    def __init__(self, inner):
        self.inner, self.parallelism, self.sent, self.names = inner, inner.parallelism, [], []
        self.remote = inner.remote
        if hasattr(inner, "share"):
            self.share, self.lost = inner.share, inner.lost

    def carried_data(self) -> int:
        """Tasks that were sent the state itself rather than None or a cluster handle."""
        return sum(self.sent)

    def split(self, items):
        return self.inner.split(items)

    def submit(self, fn, *args):
        self.sent.append(args[1] is not None            # (key, state or None, part)
                         and not isinstance(args[1], distributed.Future))
        self.names.append(fn.__name__)
        return self.inner.submit(fn, *args)


def test_bases_scattered_once_tasks_take_a_handle(cluster):
    modulus = (1 << 521) - 1
    rng = np.random.default_rng(0)
    bases = [[int(v) for v in rng.integers(2, 1 << 62, 6)] for _ in range(3)]
    rows = [[int(v) for v in rng.integers(0, 1 << 20, 6)] for _ in range(8)]
    want = [[int(np.prod([pow(b, e, modulus) for b, e in zip(bk, r)], dtype=object) % modulus)
             for bk in bases] for r in rows]
    with DaskExecutor(cluster.scheduler_address) as ex:
        rec = Recording(ex)
        fb = FixedBases(bases, modulus, 0, 1 << 20, rec)
        for _ in range(6):
            assert [[int(v) for v in row] for row in fb.products(rows)] == want
        assert rec.carried_data() == 0 and len(rec.sent) >= 12    # handles, never the bases
        assert len(ex._shared) == 1                               # scattered once


def test_a_cluster_gets_even_the_smallest_work(cluster):
    """A local pool of one runs a single decryption inline; a cluster is meant to do the
    work, so even one ciphertext goes to it (the key scattered once)."""
    from veil.backends.yao.paillier.pooled import decrypt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(BITS)
    ct = P.encrypt(pk, [41])
    with DaskExecutor(cluster.scheduler_address) as ex:
        rec = Recording(ex)
        for _ in range(6):
            assert decrypt(sk, ct, rec) == [41]
        assert len(rec.sent) == 6 and rec.carried_data() == 0     # a handle to the key
        assert len(ex._shared) == 1


def test_the_garbling_runs_on_the_cluster(cluster, tiny):
    """The cloud's garbling goes to the workers in parts, the circuit scattered once (a
    handle per task), and the result is still exact."""
    x = patches(tiny, 40, seed=2)
    with DaskExecutor(cluster.scheduler_address) as ex:
        rec = Recording(ex)
        out = secure(tiny, x, rec)
        garbled = [sent for sent, name in zip(rec.sent, rec.names) if name == "garble_part"]
        assert len(garbled) >= 2 and not any(garbled)          # handles, never the circuit
        circuits = {circuit_key(a) for a in tiny.activations}      # one per distinct circuit
        assert {k for k in ex._shared if k.startswith("activation ")} == circuits
    assert np.array_equal(out, PlaintextBackend().run_fixed(tiny, x))


class KillsAWorker(Recording):
    """Passes tasks on; at the `after`-th, kills one worker process (its tasks then in flight
    or queued are lost and rerun elsewhere by the scheduler)."""

    def __init__(self, inner, pid: int, after: int):
        super().__init__(inner)
        self.pid, self.after = pid, after

    def submit(self, fn, *args):
        future = super().submit(fn, *args)
        if len(self.sent) == self.after:
            os.kill(self.pid, signal.SIGKILL)
        return future


def test_a_worker_killed_mid_job(cluster, tiny):
    """One of the two workers dies in the middle of a run of many batches: the scheduler
    reruns its tasks (a replacement worker is sent the state it lacks) and the result is
    still exact."""
    x = patches(tiny, 96, seed=7)
    with DaskExecutor(cluster.scheduler_address) as ex:
        client = ex._client
        victim = sorted(client.nthreads())[0]
        pid = client.run(os.getpid, workers=[victim])[victim]
        killer = KillsAWorker(ex, pid, after=40)
        out = secure(tiny, x, killer)
        assert len(killer.sent) > 80                 # the job went on well after the kill
        deadline = time.time() + 30
        while victim in client.nthreads() and time.time() < deadline:
            time.sleep(0.2)
        assert victim not in client.nthreads()
    assert np.array_equal(out, PlaintextBackend().run_fixed(tiny, x))
    deadline = time.time() + 30                 # the nanny restarts it for the next tests
    while len(cluster.scheduler_info["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.2)


def _stamp(tag):
    return tag, time.monotonic()


def _hold(seconds):
    time.sleep(seconds)
    return time.monotonic()


def test_a_job_with_less_work_so_far_goes_first(cluster):
    """Least attained service (the cloud's users share one cluster): with every worker thread
    busy, a job that has had 20 tasks queues 10 more, then a new job queues 2; the new job's
    finish before at least four of the first's (with equal priorities they run last)."""
    with DaskExecutor(cluster.scheduler_address) as ex:
        client = ex._client
        client.wait_for_workers(2, timeout=60)          # after the kill test's restart
        big, small = ex.for_job(), ex.for_job()
        for _ in range(20):
            big.submit(_stamp, "warm").result()
        holds = [client.submit(_hold, 2.0, workers=[w], pure=False)    # one per worker
                 for w in client.nthreads()]
        time.sleep(0.5)
        queued = [big.submit(_stamp, "big") for _ in range(10)]
        time.sleep(0.2)
        late = [small.submit(_stamp, "small") for _ in range(2)]
        [h.result() for h in holds]
        done = {tag: [f.result()[1] for f in fs] for tag, fs in (("big", queued), ("small", late))}
    after = sum(t > max(done["small"]) for t in done["big"])
    assert after >= 4, done                 # without priorities: 0, the new job runs last


def test_bad_addresses_are_one_line_errors():
    with pytest.raises(UsageError, match="expected a scheduler address"):
        DaskExecutor("localhost")
    with pytest.raises(UsageError, match="no Dask scheduler answered"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=2)
    with pytest.raises(UsageError, match="exclude each other"):
        make_executor(2, "tcp://127.0.0.1:9")


def test_dask_only_for_the_secure_backend(tmp_path, cluster):
    img = np.full((8, 8), 100, np.uint8)
    Image.fromarray(img).save(tmp_path / "n.png")
    res = CliRunner().invoke(main, ["denoise", str(tmp_path / "n.png"), "-o",
                                    str(tmp_path / "y.png"), "--model", "tiny", "--dask",
                                    cluster.scheduler_address])
    assert res.exit_code != 0 and "--backend yao only" in res.output + res.stderr
    assert not (tmp_path / "y.png").exists()
