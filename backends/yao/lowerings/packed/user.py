"""The `packed` lowering's user: provisioning (V = W + R, then Q = Enc_c(pack W)), the
offline phase (corrections F, the garbled activations' OT), the online products.

See protocol.py for the message flow and docs/protocol.md for why each step is safe.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from gmpy2 import mpz

from veil.backends.executor import Executor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.framing.payloads import unpack_ints
from veil.backends.yao.lowerings.frames import (OT_SETUP_BYTES, recv_cts, send_batch_request,
                                                send_cts)
from veil.backends.yao.lowerings.garbled_activation import ActivationEvaluator, EvaluatorBatch
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.lowerings.packed.checks import check_weights_V
from veil.backends.yao.lowerings.packed.shapes import program_shapes
from veil.backends.yao.lowerings.parties import User
from veil.backends.yao.ot.extension import OTExtReceiver
from veil.backends.yao.paillier.pooled import FixedBases, PooledFreshNoise
from veil.backends.yao.paillier.validate import check_fresh, check_modulus
from veil.compiler.program import Program

MAX_BATCH_PATCHES = 64    # per batch: bounds every message and the garbled tables held


def split_rows(flat: list[int], width: int) -> list[list[int]]:
    return [list(flat[i:i + width]) for i in range(0, len(flat), width)]


@dataclass
class UserBatch:
    """The user's offline state for one batch: per layer F and r_c; per activation E-side GC."""
    patches: int
    F: list[list[mpz]] = field(default_factory=list)
    r_c: list[list[list[int]]] = field(default_factory=list)
    gc: list[EvaluatorBatch] = field(default_factory=list)


class PackedUser(User):
    max_batch_patches = MAX_BATCH_PATCHES

    def __init__(self, program: Program, pk: P.PublicKey, sk: P.PrivateKey, session_id: bytes,
                 executor: Executor | None = None):
        super().__init__(program, pk, sk, session_id, executor)
        self.Q: list[FixedBases] = []

    def start_session(self) -> None:
        self.ot = OTExtReceiver(self.session_id)
        self.evaluator = ActivationEvaluator(self.ot, self.program.security.kappa)

    def provision(self, ch: Channel) -> None:
        """Once per model and user: V = W + R, then Q = Enc_c(pack W) per layer. Everything
        received is checked first (checks.py): a cloud key of the program's size and a
        plausible modulus, fresh randomness in every ciphertext, V in its range."""
        self.pk_c = P.loads_public_key(ch.recv(Kind.PUBLIC_KEY, max_payload=4096))
        check_modulus(self.pk_c, self.program.security.modulus_bits, "the cloud's key")
        self.shapes = program_shapes(self.program, self.pk.bits, self.pk_c.bits)
        self.noise_c = PooledFreshNoise(self.pk_c, self.executor)   # uniform: see its class
        for i, sh in enumerate(self.shapes, 1):
            masked = recv_cts(ch, self.pk, sh.blocks * sh.n_in)
            check_fresh(self.pk, masked, f"layer {i}'s masked columns")
            V = L.unmask_columns(self.sk, masked, sh, self.executor)
            check_weights_V(V, sh, i)
            neg_R = recv_cts(ch, self.pk_c, sh.blocks * sh.n_in)
            check_fresh(self.pk_c, neg_R, f"layer {i}'s Enc_c(-R)")
            self.Q.append(FixedBases(L.user_columns(self.pk_c, V, neg_R, sh), self.pk_c.nsquare,
                                     *L.user_exponent_range(sh), self.executor))

    def open_session(self, ch: Channel) -> None:
        ch.send(Kind.OT, self.ot.setup().to_bytes())
        self.ot.finish_setup(ch.recv(Kind.OT, max_payload=OT_SETUP_BYTES))

    def prepare(self, ch: Channel, patches: int) -> UserBatch:
        """The offline phase for the next `patches` patches: needs no image."""
        self.check_batch(patches)
        send_batch_request(ch, patches)
        batch = UserBatch(patches)
        for i, sh in enumerate(self.shapes, 1):
            E = recv_cts(ch, self.pk, patches * sh.blocks)
            check_fresh(self.pk, E, f"layer {i}'s corrections E")
            r_c = L.draw_accumulator_masks(sh, patches)
            batch.F.append(L.user_corrections(self.sk, self.pk_c, E, r_c, sh, self.noise_c,
                                              self.executor))
            batch.r_c.append(r_c)
        for st, r_c in zip(self.program.dense, batch.r_c):
            act = self.program.activation(st.layer.index)
            if act is not None:
                batch.gc.append(self.evaluator.prepare(ch, act, [v for row in r_c for v in row]))
        return batch

    def run_online(self, ch: Channel, batch: UserBatch, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        if len(x) != batch.patches:
            raise ValueError(f"{len(x)} patches for a batch prepared for {batch.patches}")
        y = x.tolist()
        for k, (st, sh) in enumerate(zip(self.program.dense, self.shapes)):
            send_cts(ch, self.pk_c, L.user_products(self.pk_c, self.Q[k], y, batch.F[k], sh))
            if self.program.activation(st.layer.index) is None:
                bound = 1 << sh.masked_output_bits
                flat = unpack_ints(ch.recv(Kind.INTEGERS, max_payload=len(x) * sh.n_out * 16 + 64),
                                   bound, len(x) * sh.n_out)
                return np.array(L.user_output(split_rows(flat, sh.n_out), batch.r_c[k], sh),
                                dtype=np.int64)
            y = split_rows(self.evaluator.finish(ch, batch.gc[k]), sh.n_out)
        raise AssertionError("unreachable: the last layer returns")
