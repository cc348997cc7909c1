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

    def __enter__(self):
        self.t, self.up, self.down = time.perf_counter(), self.user_ch.bytes_sent, self.cloud_ch.bytes_sent

    def __exit__(self, *exc):
        self.phase.seconds += time.perf_counter() - self.t
        self.phase.up += self.user_ch.bytes_sent - self.up
        self.phase.down += self.cloud_ch.bytes_sent - self.down


@register
class YaoBackend(Backend):
    name = "yao"
    max_batch = 16
    options = frozenset({"workers", "executor"})

    def __init__(self, workers: int | None = None, executor: Executor | None = None):
        """`executor` if given (its owner closes it), else `workers` local processes
        (default: every core, or VEIL_WORKERS), closed with the backend."""
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
        shown = {name: p for name, p in self.phases.items() if p.worth_reporting}
        return "; ".join(p.text(name) for name, p in shown.items()) + pool

    def close(self) -> None:
        if self._owns_executor:
            self.executor.close()

    def _start(self, program: Program):
        if self._session is not None and self._session[0] is program:
            return self._session
        parties = parties_for(program.lowering)
        pk, sk = P.generate_keypair(program.security.modulus_bits)   # warns below 2048 bits
        upload_cloud, upload_owner = InProcessChannel.pair()
        # The owner's encryptions use the fast fixed-base mode (DJN short exponents).
        model = self._run_both(lambda: parties.model.receive(upload_cloud, program, pk),
                               upload_cloud,
                               lambda: parties.owner(program).publish(upload_owner, pk,
                                                                      P.ShortExpNoise(pk)),
                               upload_owner)
        sid = os.urandom(16)
        user_ch, cloud_ch = InProcessChannel.pair()
        user = parties.user(program, pk, sk, sid, executor=self.executor)
        cloud = parties.cloud(program, pk, model, sid, executor=self.executor)
        with _Meter(self.phases["provisioning"], user_ch, cloud_ch):
            self._run_both(lambda: user.setup(user_ch), user_ch,
                           lambda: cloud.setup(cloud_ch), cloud_ch)
        self._session = (program, user, cloud, user_ch, cloud_ch)
        return self._session

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

    def _batch(self, user, cloud, user_ch, cloud_ch, chunk) -> np.ndarray:
        cloud_side = []                   # the cloud's prepared batch stays on its side
        with _Meter(self.phases["offline"], user_ch, cloud_ch):
            prepared = self._run_both(lambda: user.prepare(user_ch, len(chunk)), user_ch,
                                      lambda: cloud_side.append(cloud.prepare(cloud_ch)),
                                      cloud_ch)
        with _Meter(self.phases["online"], user_ch, cloud_ch):
            return self._run_both(lambda: user.run_online(user_ch, prepared, chunk), user_ch,
                                  lambda: cloud.serve_online(cloud_ch, cloud_side[0]), cloud_ch)

    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        if not program.model.input_format.fits(x):
            raise UsageError(f"input patches out of range of {program.model.input_format}")
        _, user, cloud, user_ch, cloud_ch = self._start(program)
        outs = []
        try:
            for i in range(0, len(x), self.max_batch):
                outs.append(self._batch(user, cloud, user_ch, cloud_ch, x[i:i + self.max_batch]))
        except BaseException:
            self._session = None          # the channels are out of step: start afresh
            raise
        return np.concatenate(outs) if outs else np.zeros((0, program.model.layers[-1].n_out), np.int64)
