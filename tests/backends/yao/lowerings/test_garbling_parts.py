"""A batch garbled in parts (as on a cluster): the evaluator still decodes exactly; a part is a
pure function of its task (a rerun on another worker gives the same bytes); the garbler
regenerates x_masked's zero-labels from the seeds (the exact decoding depends on it); and, attacked: nothing the evaluator
receives from a batch in parts holds two labels of one wire (which would hand it R), while a
garbler that reused one seed for every part does exactly that."""
import os

import numpy as np
import pytest

from veil.backends.executor import InlineExecutor
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.gc.join import join_garbled
from veil.backends.yao.gc.labels import random_delta, random_labels
from veil.backends.yao.gc.wire import gc_to_bytes
from veil.backends.yao.lowerings import garbling_parts as GP
from veil.backends.yao.lowerings import garbled_activation as GA
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.compiler.synthesis import join_masked, low_width
from veil.models.catalog import compile_model

from .secure_testkit import both, ot_session

KAPPA, N = 40, 30
STAGE = compile_model("tiny").activation(1)
DELTA = random_delta()


class FakeCluster(InlineExecutor):
    """Runs here but is treated as a cluster: every batch goes out in parts, as tasks."""
    remote, parallelism = True, 3

    def __init__(self):
        self.calls = []

    def submit(self, fn, /, *args):
        self.calls.append(fn.__name__)
        return super().submit(fn, *args)


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(GP, "PART_INSTANCES", 8)      # N = 30 -> 3 parts of 10


def _run(executor, monkeypatch):
    """One batch of N activations between garbler and evaluator; the evaluator's outputs, the
    garbler's r_u, every LABELS frame the evaluator received, and R (caught as it is drawn)."""
    drawn = []
    real_delta = GA.random_delta
    monkeypatch.setattr(GA, "random_delta", lambda: drawn.append(real_delta()) or drawn[-1])
    sender, g_ch, receiver, e_ch = ot_session(Kind.LABELS)
    garbler = GA.ActivationGarbler(sender, KAPPA, executor=executor)
    evaluator = GA.ActivationEvaluator(receiver, KAPPA)
    rng = np.random.default_rng(11)  # test data only
    acc = STAGE.table.acc_bits
    x_masked = [int(v) for v in rng.integers(0, 1 << acc, N)]
    r_c = [int(v) for v in rng.integers(0, 1 << acc, N)]
    y, r_u = both(lambda: evaluator.run(e_ch, STAGE, r_c),
                  lambda: garbler.run(g_ch, STAGE, x_masked), e_ch, g_ch)
    return x_masked, r_c, y, r_u, e_ch.payloads, drawn[0]


def _exact(x_masked, r_c, y, r_u) -> bool:
    t, k = STAGE.table, low_width(STAGE.table)
    out = plain_evaluate(STAGE.masked_linear, {
        "x_masked": np.array(x_masked), "r_c": np.array(r_c),
        "r_lo": np.array([r % (1 << k) for r in r_u], dtype=object)})
    return y == join_masked(t, KAPPA, out, r_u)


def _two_labels_of_a_wire(frames: list[bytes], delta: np.ndarray) -> bool:
    """Does the evaluator hold L and L ^ R for some label L (then it knows R)?"""
    labels = {bytes(frame[i:i + 16]) for frame in frames for i in range(0, len(frame), 16)}
    r = bytes(delta)
    return any(bytes(a ^ b for a, b in zip(lab, r)) in labels for lab in labels)


def test_a_batch_garbled_in_parts_decodes_exactly(small_parts, monkeypatch):
    cluster = FakeCluster()
    x_masked, r_c, y, r_u, frames, delta = _run(cluster, monkeypatch)
    assert cluster.calls.count("garble_part") >= 3           # the parts went out as tasks
    assert _exact(x_masked, r_c, y, r_u)
    assert not _two_labels_of_a_wire(frames, delta)


def test_one_part_here_when_the_executor_is_not_a_cluster(small_parts, monkeypatch):
    x_masked, r_c, y, r_u, frames, delta = _run(None, monkeypatch)
    assert _exact(x_masked, r_c, y, r_u) and not _two_labels_of_a_wire(frames, delta)


def test_attack_a_seed_reused_across_parts_hands_the_evaluator_R(small_parts, monkeypatch):
    """The check above can fail: with one seed for every part, the parts' x_masked labels
    repeat, and the evaluator receives both labels of some wire."""
    seed = os.urandom(32)
    monkeypatch.setattr(GP.secrets, "token_bytes", lambda n: seed[:n])
    x_masked, r_c, y, r_u, frames, delta = _run(FakeCluster(), monkeypatch)
    assert _exact(x_masked, r_c, y, r_u)                        # still "works" ...
    assert _two_labels_of_a_wire(frames, delta)                 # ... and leaks R


def _task(n, seed=None, first=0, scheme=None):
    acc = STAGE.table.acc_bits
    return GP.GarbleTask(5, first, bytes(DELTA), seed or os.urandom(32),
                         random_labels(acc, n), tuple(GA.uniform_mask(
                             STAGE.table.out_format.total, KAPPA) for _ in range(n)),
                         scheme, KAPPA)


@pytest.mark.parametrize("scheme", [None, "half-gates"])
def test_parts_are_pure_and_rerun_identically(scheme):
    """Labels, three-halves' dice, tables, rows: all from the task (a rerun elsewhere gives
    the same bytes), and a new seed gives new labels."""
    key, circuit = GP.circuit_key(STAGE), (STAGE.masked_linear, STAGE.table)
    task = _task(12, scheme=scheme)
    one, two = GP.garble_part(key, circuit, task), GP.garble_part(key, circuit, task)
    assert gc_to_bytes(one.gc) == gc_to_bytes(two.gc)
    assert np.array_equal(one.rows, two.rows) and np.array_equal(one.r_lo, two.r_lo)
    other = GP.garble_part(key, circuit, _task(12, scheme=scheme))
    assert not np.any(np.all(other.r_lo == one.r_lo, axis=-1))    # a new seed: new labels


def test_join_refuses_chunks_that_are_not_consecutive():
    key, circuit = GP.circuit_key(STAGE), (STAGE.masked_linear, STAGE.table)
    a = GP.garble_part(key, circuit, _task(4, first=0)).gc
    b = GP.garble_part(key, circuit, _task(4, first=4)).gc
    assert join_garbled([a, b]).n_instances == 8
    with pytest.raises(ValueError, match="consecutive"):
        join_garbled([b, a])
