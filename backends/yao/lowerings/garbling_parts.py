"""A batch of garbled activations garbled in parts, possibly on the garbler's workers.

The garbler (the cloud in `packed`) fixes R, runs the correlated OT and draws one secret seed
per part in its own process; a part's garbling is then a pure function of its `GarbleTask`
(the labels come from the seed: gc/labels.seeded_labels), so a worker that dies can have its
part run again elsewhere with the same result. A part returns only what the evaluator will
receive for its instances (`GarbledPart`: tables, translation rows, the active labels of
r_u's low bits); the garbler joins the parts and regenerates from the seeds the one secret it
needs online, the zero-labels of x_masked. R and the seeds go to the garbler's own workers
only (docs/service.md, "The cloud on a cluster"), never to another party.
"""
from __future__ import annotations

import hashlib
import pickle
import secrets
from dataclasses import dataclass

import numpy as np

from veil.backends import worker_state
from veil.backends.executor import Executor
from veil.backends.yao.gc import translate
from veil.backends.yao.gc.garble import garble, input_labels, input_zero_labels
from veil.backends.yao.gc.join import join_garbled
from veil.backends.yao.gc.labels import SEED_BYTES
from veil.backends.yao.gc.types import GarbledCircuit, GarblerSecrets
from veil.compiler.program import ActivationStage
from veil.compiler.synthesis import high_part, high_width, low_width

HIDDEN = ("carry", "sign")     # the masked circuit's outputs the evaluator must not decode
PART_INSTANCES = 1024          # fewest instances worth a task of their own on a cluster


@dataclass(frozen=True)
class GarbleTask:
    """One part of a batch, as the garbler hands it to its own worker (its secrets included:
    R and the part's seed)."""
    tweak_base: int
    first_instance: int
    delta: bytes
    seed: bytes
    zero_rc: np.ndarray        # (acc, n, 16): the correlated OT's zero sides for the part
    r_u: tuple[int, ...]
    scheme: object
    kappa: int


@dataclass(frozen=True)
class GarbledPart:
    """What the evaluator receives for the part's instances, and nothing else."""
    gc: GarbledCircuit
    rows: np.ndarray           # the translation table (translate.py)
    r_lo: np.ndarray           # active labels of the low bits of r_u


def circuit_key(stage: ActivationStage) -> str:
    """The digest of what a worker needs of a stage to garble it: its masked circuit and table."""
    return "activation " + hashlib.sha256(
        pickle.dumps((stage.masked_linear, stage.table))).hexdigest()


def garble_part(key: str, circuit, task: GarbleTask) -> GarbledPart | None:
    """Garble one part (a pure function of `task`); `circuit` is (masked_linear, table), a
    cluster's handle to it, or None when this worker should already hold it
    (worker_state.run_parts)."""
    held = worker_state.lookup("circuits", key, circuit, lambda value: value)
    if held is None:
        return None
    lin, t = held
    n, k = len(task.r_u), low_width(t)
    gc, secrets_ = garble(lin, n, task.tweak_base, first_instance=task.first_instance,
                          delta=task.delta, zero_labels={"r_c": task.zero_rc},
                          scheme=task.scheme, hidden=HIDDEN, seed=task.seed)
    values = [[high_part(t, task.kappa, r >> k, a, s) for a in (0, 1) for s in (0, 1)]
              for r in task.r_u]
    rows = translate.garble_table(secrets_.output_zero["carry"][0],
                                  secrets_.output_zero["sign"][0], secrets_.delta, values,
                                  high_width(t, task.kappa), task.tweak_base,
                                  task.first_instance)
    r_lo = input_labels(secrets_, "r_lo",
                        np.array([r & ((1 << k) - 1) for r in task.r_u], np.uint64))
    return GarbledPart(gc, rows, r_lo)


def part_bounds(n: int, executor: Executor | None) -> list[tuple[int, int]]:
    """Instance ranges: one part here, or as many as keep a cluster's threads busy."""
    parts = 1
    if executor is not None and executor.remote:
        parts = max(1, min(executor.parallelism, n // PART_INSTANCES))
    edges = [n * i // parts for i in range(parts + 1)]
    return list(zip(edges, edges[1:]))


def garble_batch(stage: ActivationStage, key: str, executor: Executor | None, tweak_base: int,
                 delta: np.ndarray, zero_rc: np.ndarray, r_u: list[int], scheme, kappa: int
                 ) -> tuple[GarbledPart, GarblerSecrets]:
    """Every instance of a batch in parts (on the executor when it is a cluster, else in this
    thread: the local pool's processes are busy with the Paillier work), joined; and the garbler's secrets for the online step (R, x_masked's zero-labels)."""
    tasks = [GarbleTask(tweak_base, i0, bytes(delta), secrets.token_bytes(SEED_BYTES),
                        np.ascontiguousarray(zero_rc[:, i0:i1]), tuple(r_u[i0:i1]), scheme,
                        kappa) for i0, i1 in part_bounds(len(r_u), executor)]
    circuit = (stage.masked_linear, stage.table)
    if executor is not None and executor.remote:     # a cluster gets every part
        parts = worker_state.run_parts(executor, garble_part, key, circuit, tasks)
    else:
        parts = [garble_part(key, circuit, task) for task in tasks]
    acc = stage.table.acc_bits
    zero_x = np.concatenate([input_zero_labels(t.seed, "x_masked", acc, len(t.r_u))
                             for t in tasks], axis=1)
    joined = GarbledPart(join_garbled([p.gc for p in parts]),
                         np.concatenate([p.rows for p in parts]),
                         np.concatenate([p.r_lo for p in parts], axis=1))
    return joined, GarblerSecrets(np.array(delta, np.uint8), {"x_masked": zero_x}, len(r_u))
