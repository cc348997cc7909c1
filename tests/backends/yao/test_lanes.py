"""Lanes: several sessions of the protocol side by side on one provisioning (yao backend).
Each must be a session of its own (its own OT secret), the batches must all come back in
order and equal to the plaintext reference, and the state the lanes share (the noise
source, the fixed-base tables) must stay consistent when two threads use it at once."""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from veil.backends.executor import InlineExecutor
from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao import paillier as P
from veil.backends.yao.backend import YaoBackend
from veil.backends import worker_state
from veil.backends.yao.paillier.pooled import FixedBases, PooledFreshNoise
from veil.models.catalog import compile_model
from veil.util.errors import UsageError

BITS = 768


def patches(program, count: int, seed: int) -> np.ndarray:
    fmt, n_in = program.model.input_format, program.model.layers[0].n_in
    return np.random.default_rng(seed).integers(fmt.min_int, fmt.max_int + 1, (count, n_in))


@pytest.fixture(scope="module")
def tiny():
    return compile_model("tiny", "packed", key_bits=BITS)


@pytest.mark.parametrize("lanes", [1, 2, 3])
def test_lanes_equal_plaintext_in_order(tiny, lanes):
    x = patches(tiny, 2 * YaoBackend.batch_patches + 5, seed=lanes)     # 16 + 16 + 5
    backend = YaoBackend(workers=1, lanes=lanes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        try:
            out = backend.run_fixed(tiny, x)
            _, used = backend._session
        finally:
            backend.close()
    assert np.array_equal(out, PlaintextBackend().run_fixed(tiny, x))
    assert len(used) == lanes
    carried = [lane.user_ch.bytes_sent for lane in used]
    assert all(b > 1000 for b in carried), carried          # every lane ran batches


def test_each_lane_is_a_session_of_its_own(tiny):
    """Twins share the provisioning but not the OT: the garbler's IKNP secret, the session
    id its hashes are tweaked with, and the base-OT state differ between lanes."""
    backend = YaoBackend(workers=1, lanes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        try:
            backend.run_fixed(tiny, patches(tiny, 2, seed=0))
            _, (a, b) = backend._session
        finally:
            backend.close()
    assert a.cloud.session_id != b.cloud.session_id and a.user.session_id == a.cloud.session_id
    assert a.cloud.ot is not b.cloud.ot and a.user.ot is not b.user.ot
    assert bytes(a.cloud.ot._s) != bytes(b.cloud.ot._s)
    assert a.cloud.columns is b.cloud.columns and a.user.Q is b.user.Q    # shared, read-only
    assert a.cloud.sk_c is b.cloud.sk_c


def test_zero_lanes_refused():
    with pytest.raises(UsageError, match="lanes"):
        YaoBackend(workers=1, lanes=0)


def test_lanes_from_the_environment(monkeypatch):
    monkeypatch.setenv("VEIL_LANES", "3")
    assert YaoBackend(workers=1).lanes == 3
    monkeypatch.setenv("VEIL_LANES", "many")
    with pytest.raises(UsageError, match="VEIL_LANES"):
        YaoBackend(workers=1)


def test_noise_source_shared_by_threads_counts_every_factor():
    """Eight threads take factors at once across the switch to the pool: every factor is
    counted, one pool is drawn, and no factor repeats."""
    pk, _ = _quiet_keypair()
    noise = PooledFreshNoise(pk, InlineExecutor(), switch_after=20)
    got: list[list] = []
    lock = threading.Lock()

    def take():
        for _ in range(5):
            fs = noise.take(3)
            with lock:
                got.append(fs)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [f for fs in got for f in fs]
    assert len(flat) == noise.taken == 8 * 5 * 3
    assert noise.pools_drawn == 1 and len(set(flat)) == len(flat)


def _quiet_keypair():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(BITS)


class _TwoWorkersInline(InlineExecutor):
    """Splits work in two like a pool of two, runs it here, and records every task's args."""
    parallelism = 2

    def __init__(self):
        self.calls = []

    def submit(self, fn, /, *args):
        self.calls.append((fn.__name__, args))
        return super().submit(fn, *args)


def test_fixed_bases_cross_to_a_worker_once():
    """The bases go with a worker's first task for them only (it answers None without them);
    every later task carries exponents alone; the products are right either way."""
    worker_state.forget_all()
    modulus = (1 << 127) - 1
    bases = [[3, 5, 7], [11, 13, 17]]
    ex = _TwoWorkersInline()
    fb = FixedBases(bases, modulus, 0, 1 << 10, ex)
    rows = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    want = [[np.prod([pow(b, e, modulus) for b, e in zip(bk, r)], dtype=object) % modulus
             for bk in bases] for r in rows]
    assert fb.products(rows) == want
    first = [args[1] is not None for name, args in ex.calls]
    assert first.count(True) >= 1 and first[:2] == [False, False]
    ex.calls.clear()
    assert fb.products(rows) == want
    assert ex.calls and all(args[1] is None for _, args in ex.calls)
