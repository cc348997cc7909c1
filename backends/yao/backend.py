"""The `yao` backend: runs the secure protocol (either lowering) with all three parties in
this process.

The owner publishes once per program, then the user (this thread) and the cloud (a worker
thread) talk only through an in-process channel of typed, length-checked frames. Wall time
and the bytes each way are counted per phase: provisioning (once per model and user), then
per batch the offline phase (no image needed; `packed` only) and the online phase. The
heavy multi-exponentiations of `packed` run on the executor (veil.backends.executor), made
once here and held by both parties. The parties are driven through the interface both
lowerings share (lowerings/parties.py). The result must equal the plaintext backend bit for
bit.

Lanes: a batch alternates between steps on the executor's workers and steps in this process
(garbling, OT, framing), so one session alone leaves the workers idle part of the time.
`lanes` sessions (default 2) run side by side on one provisioning, each with its own
channel and OT (Party.for_session), taking batches from one queue: while one lane garbles,
the other's multi-exponentiations keep the workers busy. Each lane is exactly one session
of the protocol; the masks of every batch are drawn afresh as before.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from veil.backends.base import Backend
from veil.backends.registry import register
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, InProcessChannel, PeerClosed
from veil.backends.executor import Executor, local_executor
from veil.backends.yao.lowerings.catalog import parties_for
from veil.backends.yao.lowerings.parties import Cloud, User
from veil.compiler.program import Program
from veil.util.errors import UsageError


@dataclass
class Phase:
    seconds: float = 0.0
    up: int = 0           # bytes user -> cloud
    down: int = 0         # bytes cloud -> user

    @property
    def worth_reporting(self) -> bool:
        """More than batch announcements (paper's offline phase is nothing else)."""
        return self.seconds >= 0.05 or self.up + self.down > 4096

    def text(self, name: str) -> str:
        return f"{name} {self.seconds:.1f} s, up {self.up / 1e6:.1f} MB, down {self.down / 1e6:.1f} MB"


class _Meter:
    """Adds the wall time and channel bytes of a block of work to a Phase."""

    def __init__(self, phase: Phase, user_ch: Channel, cloud_ch: Channel):
        self.phase, self.user_ch, self.cloud_ch = phase, user_ch, cloud_ch

    _lock = threading.Lock()            # lanes add to the same phases

    def __enter__(self):
        self.t, self.up, self.down = time.perf_counter(), self.user_ch.bytes_sent, self.cloud_ch.bytes_sent

    def __exit__(self, *exc):
        with self._lock:
            self.phase.seconds += time.perf_counter() - self.t
            self.phase.up += self.user_ch.bytes_sent - self.up
            self.phase.down += self.cloud_ch.bytes_sent - self.down


@dataclass
class _Lane:
    """One session: the two parties and their channel ends."""
    user: User
    cloud: Cloud
    user_ch: Channel
    cloud_ch: Channel


def default_lanes() -> int:
    """VEIL_LANES if set, else 2."""
    env = os.environ.get("VEIL_LANES")
    if not env:
        return 2
    try:
        return max(1, int(env))
    except ValueError:
        raise UsageError(f"VEIL_LANES={env!r} is not a number of lanes") from None


@register
class YaoBackend(Backend):
    name = "yao"
    batch_patches = 16          # patches per protocol batch
    max_batch = 128             # patches per run_fixed call: batches for every lane
    options = frozenset({"workers", "executor", "lanes"})

    def __init__(self, workers: int | None = None, executor: Executor | None = None,
                 lanes: int | None = None):
        """`executor` if given (its owner closes it), else `workers` local processes
        (default: every core, or VEIL_WORKERS), closed with the backend; `lanes` concurrent
        sessions (default 2, or VEIL_LANES)."""
        self.lanes = default_lanes() if lanes is None else lanes
        if self.lanes < 1:
            raise UsageError(f"lanes must be at least 1, not {self.lanes}")
        self.executor = executor or local_executor(workers)
        self._owns_executor = executor is None
        self._session: tuple | None = None
        self.phases = {"provisioning": Phase(), "offline": Phase(), "online": Phase()}

    @property
    def bytes_user_to_cloud(self) -> int:
        return sum(p.up for p in self.phases.values())

    @property
    def bytes_cloud_to_user(self) -> int:
        return sum(p.down for p in self.phases.values())

    def traffic(self) -> str:
        pool = f"; {self.executor.describe()}" if self.phases["offline"].worth_reporting else ""
        if self.lanes > 1 and self.phases["offline"].worth_reporting:
            pool += f", {self.lanes} lanes (phase times summed over the lanes)"
        shown = {name: p for name, p in self.phases.items() if p.worth_reporting}
        return "; ".join(p.text(name) for name, p in shown.items()) + pool

    def close(self) -> None:
        if self._owns_executor:
            self.executor.close()

    def _start(self, program: Program) -> list[_Lane]:
        if self._session is not None and self._session[0] is program:
            return self._session[1]
        parties = parties_for(program.lowering)
        pk, sk = P.generate_keypair(program.security.modulus_bits)   # warns below 2048 bits
        upload_cloud, upload_owner = InProcessChannel.pair()
        # The owner's encryptions use the fast fixed-base mode (DJN short exponents).
        model = self._run_both(lambda: parties.model.receive(upload_cloud, program, pk),
                               upload_cloud,
                               lambda: parties.owner(program).publish(upload_owner, pk,
                                                                      P.ShortExpNoise(pk)),
                               upload_owner)
        user_ch, cloud_ch = InProcessChannel.pair()
        sid = os.urandom(16)
        first = _Lane(parties.user(program, pk, sk, sid, executor=self.executor),
                      parties.cloud(program, pk, model, sid, executor=self.executor),
                      user_ch, cloud_ch)
        with _Meter(self.phases["provisioning"], user_ch, cloud_ch):
            self._run_both(lambda: first.user.setup(user_ch), user_ch,
                           lambda: first.cloud.setup(cloud_ch), cloud_ch)
        lanes = [first]
        for _ in range(1, self.lanes):          # more sessions on the same provisioning
            sid = os.urandom(16)
            lane = _Lane(first.user.for_session(sid), first.cloud.for_session(sid),
                         *InProcessChannel.pair())
            with _Meter(self.phases["provisioning"], lane.user_ch, lane.cloud_ch):
                self._run_both(lambda: lane.user.open_session(lane.user_ch), lane.user_ch,
                               lambda: lane.cloud.open_session(lane.cloud_ch), lane.cloud_ch)
            lanes.append(lane)
        self._session = (program, lanes)
        return lanes

    @staticmethod
    def _run_both(here, here_ch, peer, peer_ch):
        """Run `here` in this thread and `peer` in a worker thread, each on its channel end;
        return here's result. A side that fails closes its end, so the other stops at once
        instead of waiting for a timeout, and the first real error is raised (not the
        other side's 'peer closed')."""
        errors: list[BaseException] = []

        def peer_thread():
            try:
                peer()
            except BaseException as exc:      # re-raised in the caller's thread
                errors.append(exc)
                peer_ch.close()

        t = threading.Thread(target=peer_thread, daemon=True)
        t.start()
        try:
            result = here()
        except BaseException as exc:
            here_ch.close()
            t.join()
            root = [e for e in errors if not isinstance(e, PeerClosed)]
            if isinstance(exc, PeerClosed) and root:
                raise root[0] from None
            raise
        t.join()
        if errors:
            raise errors[0]
        return result

    def _batch(self, lane: _Lane, chunk) -> np.ndarray:
        user, cloud, user_ch, cloud_ch = lane.user, lane.cloud, lane.user_ch, lane.cloud_ch
        cloud_side = []                   # the cloud's prepared batch stays on its side
        with _Meter(self.phases["offline"], user_ch, cloud_ch):
            prepared = self._run_both(lambda: user.prepare(user_ch, len(chunk)), user_ch,
                                      lambda: cloud_side.append(cloud.prepare(cloud_ch)),
                                      cloud_ch)
        with _Meter(self.phases["online"], user_ch, cloud_ch):
            return self._run_both(lambda: user.run_online(user_ch, prepared, chunk), user_ch,
                                  lambda: cloud.serve_online(cloud_ch, cloud_side[0]), cloud_ch)

    def _run_lanes(self, lanes: list[_Lane], chunks: list[np.ndarray]) -> list[np.ndarray]:
        """Every chunk through some lane, lanes taking the next chunk when free; the first
        error stops the others after their current batch and is raised here."""
        outs: list[np.ndarray | None] = [None] * len(chunks)
        pending = iter(range(len(chunks)))
        lock, errors = threading.Lock(), []

        def run(lane: _Lane) -> None:
            while True:
                with lock:
                    i = None if errors else next(pending, None)
                if i is None:
                    return
                try:
                    outs[i] = self._batch(lane, chunks[i])
                except BaseException as exc:     # re-raised in the caller's thread
                    with lock:
                        errors.append(exc)
                    return

        used = lanes[:len(chunks)]
        threads = [threading.Thread(target=run, args=(lane,), daemon=True) for lane in used[1:]]
        for t in threads:
            t.start()
        if used:
            run(used[0])              # the first lane in this thread
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return outs

    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        if not program.model.input_format.fits(x):
            raise UsageError(f"input patches out of range of {program.model.input_format}")
        lanes = self._start(program)
        chunks = [x[i:i + self.batch_patches] for i in range(0, len(x), self.batch_patches)]
        try:
            outs = self._run_lanes(lanes, chunks)
        except BaseException:
            self._session = None          # the channels are out of step: start afresh
            raise
        return np.concatenate(outs) if outs else np.zeros((0, program.model.layers[-1].n_out), np.int64)
