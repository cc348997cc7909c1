"""The `yao` backend: runs the secure protocol (either lowering) with all three parties in
this process.

The owner publishes once per program, then the user (this thread) and the cloud (a worker
thread) talk only through an in-process channel of typed, length-checked frames; the bytes
each way are counted. The result must equal the plaintext backend bit for bit.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from veil.backends.base import Backend
from veil.backends.registry import register
from veil.backends.yao import paillier as P
from veil.backends.yao.channel import InProcessChannel, PeerClosed
from veil.backends.yao.packed_protocol import (PackedCloud, PackedOwner, PackedUser,
                                               receive_packed_model)
from veil.backends.yao.paper_protocol import (PaperCloud, PaperOwner, PaperUser,
                                              receive_paper_model)
from veil.compiler.program import Lowering, Program


@register
class YaoBackend(Backend):
    name = "yao"
    max_batch = 16

    def traffic(self) -> str:
        return (f"user->cloud {self.bytes_user_to_cloud / 1e6:.1f} MB, "
                f"cloud->user {self.bytes_cloud_to_user / 1e6:.1f} MB")

    def __init__(self):
        self._session: tuple | None = None
        self.bytes_user_to_cloud = 0
        self.bytes_cloud_to_user = 0

    def _start(self, program: Program):
        if self._session is not None and self._session[0] is program:
            return self._session
        paper = program.lowering is Lowering.PAPER
        owner_cls, receive = (PaperOwner, receive_paper_model) if paper else \
            (PackedOwner, receive_packed_model)
        user_cls, cloud_cls = (PaperUser, PaperCloud) if paper else (PackedUser, PackedCloud)
        pk, sk = P.generate_keypair(program.security.modulus_bits)   # warns below 2048 bits
        upload_cloud, upload_owner = InProcessChannel.pair()
        model = self._run_both(lambda: receive(upload_cloud, program, pk), upload_cloud,
                               lambda: owner_cls(program).publish(upload_owner, pk), upload_owner)
        sid = os.urandom(16)
        user_ch, cloud_ch = InProcessChannel.pair()
        user = user_cls(program, pk, sk, sid)
        cloud = cloud_cls(program, pk, model, sid)
        self._run_both(lambda: user.setup(user_ch), user_ch, lambda: cloud.setup(cloud_ch), cloud_ch)
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

    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        if not program.model.input_format.fits(x):
            raise ValueError(f"input patches out of range of {program.model.input_format}")
        _, user, cloud, user_ch, cloud_ch = self._start(program)
        outs = []
        try:
            for i in range(0, len(x), self.max_batch):
                chunk = x[i:i + self.max_batch]
                outs.append(self._run_both(lambda: user.run_batch(user_ch, chunk), user_ch,
                                           lambda: cloud.serve_batch(cloud_ch), cloud_ch))
        except BaseException:
            self._session = None          # the channels are out of step: start afresh
            raise
        self.bytes_user_to_cloud = user_ch.bytes_sent
        self.bytes_cloud_to_user = cloud_ch.bytes_sent
        return np.concatenate(outs) if outs else np.zeros((0, program.model.layers[-1].n_out), np.int64)
