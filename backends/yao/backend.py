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
from veil.backends.yao.channel import InProcessChannel
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

    def __init__(self, batch: int = 64):
        self.batch = batch
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
        owner_ch, upload_ch = InProcessChannel.pair()
        model = self._run_both(lambda: receive(upload_ch, program, pk),
                               lambda: owner_cls(program).publish(owner_ch, pk))
        sid = os.urandom(16)
        user_ch, cloud_ch = InProcessChannel.pair()
        user = user_cls(program, pk, sk, sid)
        cloud = cloud_cls(program, pk, model, sid)
        self._run_both(lambda: user.setup(user_ch), lambda: cloud.setup(cloud_ch))
        self._session = (program, user, cloud, user_ch, cloud_ch)
        return self._session

    @staticmethod
    def _run_both(user_side, cloud_side):
        """Run user_side here and cloud_side (the peer) in a thread; return user_side's result."""
        error: list[BaseException] = []

        def cloud_thread():
            try:
                cloud_side()
            except BaseException as exc:      # re-raised in the caller's thread
                error.append(exc)

        t = threading.Thread(target=cloud_thread, daemon=True)
        t.start()
        try:
            result = user_side()
        finally:
            t.join()
        if error:
            raise error[0]
        return result

    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        _, user, cloud, user_ch, cloud_ch = self._start(program)
        x = np.asarray(x, dtype=np.int64)
        outs = []
        for i in range(0, len(x), self.batch):
            chunk = x[i:i + self.batch]
            outs.append(self._run_both(lambda: user.run_batch(user_ch, chunk),
                                       lambda: cloud.serve_batch(cloud_ch)))
        self.bytes_user_to_cloud = user_ch.bytes_sent
        self.bytes_cloud_to_user = cloud_ch.bytes_sent
        return np.concatenate(outs) if outs else np.zeros((0, program.model.layers[-1].n_out), np.int64)
