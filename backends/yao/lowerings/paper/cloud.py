"""The `paper` lowering's cloud: masks the Erkin products, sums them, masks the accumulators
for the garbled activation it evaluates (PROTOCOL.md, lowering 1; protocol.py has the flow)."""
from __future__ import annotations

from veil.backends.executor import Executor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.frames import OT_SETUP_BYTES, check_batch, recv_cts, send_cts
from veil.backends.yao.lowerings.garbled_activation import ActivationEvaluator
from veil.backends.yao.lowerings.paper.activation_masks import (cloud_activation_output,
                                                                 cloud_mask_accumulators)
from veil.backends.yao.lowerings.paper.linear import accumulate, cloud_mask, cloud_unmask
from veil.backends.yao.lowerings.paper.model import PaperModel
from veil.backends.yao.lowerings.paper.user import MAX_BATCH_PATCHES, PaperBatch
from veil.backends.yao.lowerings.parties import Cloud
from veil.backends.yao.ot.extension import OTExtReceiver
from veil.compiler.program import Program


class PaperCloud(Cloud):
    max_batch_patches = MAX_BATCH_PATCHES

    def __init__(self, program: Program, pk: P.PublicKey, model: PaperModel, session_id: bytes,
                 executor: Executor | None = None):
        self.kappa = program.security.kappa
        super().__init__(program, pk, model, session_id, executor)

    def start_session(self) -> None:
        self.ot = OTExtReceiver(self.session_id)
        self.evaluator = ActivationEvaluator(self.ot, self.kappa)

    def open_session(self, ch: Channel) -> None:
        ch.send(Kind.OT, self.ot.setup().to_bytes())
        self.ot.finish_setup(ch.recv(Kind.OT, max_payload=OT_SETUP_BYTES))

    def prepare(self, ch: Channel, patches: int | None = None) -> PaperBatch:
        if patches is None:
            patches = self.read_batch_request(ch)
        check_batch(patches, self.max_batch_patches, ProtocolError)
        return PaperBatch(patches)

    def serve_online(self, ch: Channel, batch: PaperBatch) -> int:
        pk = self.pk
        n_patches = batch.patches
        enc_y = recv_cts(ch, pk, n_patches * self.program.dense[0].layer.n_in)
        for k, stage in enumerate(self.program.dense):
            L = stage.layer
            enc_w = self.model.weights[k]
            flat_w = [enc_w[i * L.n_in + j] for _ in range(n_patches)
                      for i in range(L.n_out) for j in range(L.n_in)]
            flat_y = [enc_y[p * L.n_in + j] for p in range(n_patches)
                      for _ in range(L.n_out) for j in range(L.n_in)]
            request, masks = cloud_mask(pk, flat_w, flat_y)
            send_cts(ch, pk, request)
            replies = recv_cts(ch, pk, len(flat_w))
            acc = accumulate(pk, cloud_unmask(pk, replies, flat_w, flat_y, masks),
                             self.model.biases[k], L.n_in)
            act = self.program.activation(L.index)
            if act is None:
                send_cts(ch, pk, P.rerandomise_all(pk, acc))
                return n_patches
            masked, r_c = cloud_mask_accumulators(pk, acc, L.acc_bits, self.kappa)
            send_cts(ch, pk, masked)
            y_masked = self.evaluator.run(ch, act, r_c)
            enc_y = cloud_activation_output(pk, y_masked, recv_cts(ch, pk, len(acc)))
        raise AssertionError("unreachable: the last layer returns")
