"""The `paper` lowering's user: encrypts its patches, answers the Erkin products, garbles the
activations (PROTOCOL.md, lowering 1; protocol.py has the message flow)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veil.backends.executor import Executor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.frames import (OT_SETUP_BYTES, recv_cts, send_batch_request,
                                                send_cts)
from veil.backends.yao.lowerings.garbled_activation import ActivationGarbler
from veil.backends.yao.lowerings.paper.activation_masks import user_masked_accumulators
from veil.backends.yao.lowerings.paper.linear import user_multiply
from veil.backends.yao.lowerings.parties import User
from veil.backends.yao.ot.extension import OTExtSender
from veil.backends.yao.ot.messages import BaseOTStart
from veil.compiler.program import Program

MAX_BATCH_PATCHES = 4096   # per batch: bounds every message the cloud accepts


@dataclass(frozen=True)
class PaperBatch:
    """`paper` has no offline work: a batch is its announced size."""
    patches: int


class PaperUser(User):
    max_batch_patches = MAX_BATCH_PATCHES

    def __init__(self, program: Program, pk: P.PublicKey, sk: P.PrivateKey, session_id: bytes,
                 executor: Executor | None = None):
        self.kappa = program.security.kappa
        self.noise = P.CrtNoise(sk)            # the key owner's fast, exact encryption
        super().__init__(program, pk, sk, session_id, executor)

    def start_session(self) -> None:
        self.ot = OTExtSender(self.session_id)
        self.garbler = ActivationGarbler(self.ot, self.kappa)

    def open_session(self, ch: Channel) -> None:
        start = BaseOTStart.from_bytes(ch.recv(Kind.OT, max_payload=OT_SETUP_BYTES))
        ch.send(Kind.OT, self.ot.setup(start).to_bytes())

    def prepare(self, ch: Channel, patches: int) -> PaperBatch:
        self.check_batch(patches)
        send_batch_request(ch, patches)
        return PaperBatch(patches)

    def run_online(self, ch: Channel, batch: PaperBatch, x: np.ndarray) -> np.ndarray:
        pk, sk = self.pk, self.sk
        n_patches = len(x)
        if n_patches != batch.patches:
            raise ValueError(f"{n_patches} patches for a batch announced as {batch.patches}")
        send_cts(ch, pk, P.encrypt_signed(pk, [int(v) for v in np.asarray(x).ravel()], self.noise))
        for stage in self.program.dense:
            L = stage.layer
            request = recv_cts(ch, pk, 2 * n_patches * L.n_out * L.n_in)
            send_cts(ch, pk, user_multiply(sk, request, self.noise))
            act = self.program.activation(L.index)
            masked = recv_cts(ch, pk, n_patches * L.n_out)
            if act is None:
                return np.array(P.decrypt_signed(sk, masked), dtype=np.int64).reshape(n_patches, -1)
            x_masked = user_masked_accumulators(sk, masked, L.acc_bits, self.kappa)
            r_u = self.garbler.run(ch, act, x_masked)
            send_cts(ch, pk, P.encrypt(pk, r_u, self.noise))
        raise AssertionError("unreachable: the last layer returns")
