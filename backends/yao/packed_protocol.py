"""The `packed` lowering end to end: owner, user and cloud (PROTOCOL.md, lowering 2).

Owner:  per layer, packed columns Enc_u(pack W[:, j]) and Enc_u(pack b) to the cloud.
Setup (once per model and user; cloud has its own key pair c):
  C -> U  pk_c; OT base setup (as in the paper lowering)
  per layer: C -> U  Enc_u(pack(W + R)) rerandomised, Enc_c(pack'(R))
Per batch of P patches (every message is one frame; counts checked on receipt):
  offline, per layer:  U -> C  Enc_c(pack'(R r + m)), Enc_u(pack(V r + m))
                       C       corrections (packed_linear.cloud_offline)
  online:  U -> C  p' = p + r_1 in the clear
    per layer:  C -> U  Enc_u(pack(x + r_c)) (fresh factor inside the correction)
      hidden:   garbled activation with U's pre-chosen r_u = next layer's r; C gets y' = t + r_u
      last:     U decodes q from signed slots
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from gmpy2 import mpz

from veil.backends.yao import packed_linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.channel import Channel, Kind, ProtocolError
from veil.backends.yao.garbled_activation import ActivationEvaluator, ActivationGarbler
from veil.backends.yao.messages import pack_ints, unpack_ints
from veil.backends.yao.ot_extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot_messages import BaseOTStart
from veil.backends.yao.packed_shapes import PackedShapes
from veil.compiler.program import Program

MAX_PATCHES = 1 << 16          # per batch; bounds every message the cloud accepts


def _send_cts(ch: Channel, pk: P.PublicKey, cts: Sequence[mpz]) -> None:
    ch.send(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, list(cts)))


def _recv_cts(ch: Channel, pk: P.PublicKey, count: int) -> list[mpz]:
    cts = P.loads_ciphertexts(pk, ch.recv(Kind.CIPHERTEXTS,
                                          max_payload=count * pk.byte_width * 2 + 256))
    if len(cts) != count:
        raise ProtocolError(f"expected {count} ciphertexts, got {len(cts)}")
    return cts


def program_shapes(program: Program, user_bits: int, cloud_bits: int) -> list[PackedShapes]:
    """Per layer; checks that each activation's output feeds the next layer's input mask."""
    if user_bits != program.security.modulus_bits:     # the slot layout was fixed for it
        raise ValueError("the user's key size differs from the program's security settings")
    shapes = [PackedShapes.of(st.layer, program.security, cloud_bits) for st in program.dense]
    for st in program.dense:
        act = program.activation(st.layer.index)
        nxt = st.layer.index          # 1-based index of the next dense stage = list position
        if act is not None and act.table.out_format.total != shapes[nxt].input_bits:
            raise ValueError(f"act{st.layer.index}'s output is not layer {nxt + 1}'s input")
    return shapes


@dataclass(frozen=True)
class PackedModel:
    """What the owner uploads: per layer, packed columns [block][input] and packed biases."""
    columns: tuple[list[list[mpz]], ...]
    biases: tuple[list[mpz], ...]


class PackedOwner:
    def __init__(self, program: Program):
        self.program = program

    def publish(self, ch: Channel, pk_u: P.PublicKey, noise: P.NoiseSource | None = None) -> None:
        for st in self.program.dense:
            sh = PackedShapes.of(st.layer, self.program.security)
            cols = L.publish_columns(pk_u, st.layer, sh, noise)
            _send_cts(ch, pk_u, [c for row in cols for c in row])
            _send_cts(ch, pk_u, L.publish_bias(pk_u, st.layer, sh, noise))


def receive_packed_model(ch: Channel, program: Program, pk_u: P.PublicKey) -> PackedModel:
    cols, biases = [], []
    for st in program.dense:
        sh = PackedShapes.of(st.layer, program.security)
        flat = _recv_cts(ch, pk_u, sh.blocks * sh.n_in)
        cols.append([flat[k * sh.n_in:(k + 1) * sh.n_in] for k in range(sh.blocks)])
        biases.append(_recv_cts(ch, pk_u, sh.blocks))
    return PackedModel(tuple(cols), tuple(biases))


class PackedUser:
    def __init__(self, program: Program, pk: P.PublicKey, sk: P.PrivateKey, session_id: bytes):
        self.program, self.pk, self.sk = program, pk, sk
        self.noise = P.CrtNoise(sk)
        self.ot = OTExtSender(session_id)
        self.garbler = ActivationGarbler(self.ot, program.security.kappa)
        self.V: list[L.Matrix] = []
        self.enc_R: list[list[mpz]] = []

    def setup(self, ch: Channel) -> None:
        self.pk_c = P.loads_public_key(ch.recv(Kind.PUBLIC_KEY, max_payload=4096))
        self.shapes = program_shapes(self.program, self.pk.bits, self.pk_c.bits)
        start = BaseOTStart.from_bytes(ch.recv(Kind.OT, max_payload=1 << 20))
        ch.send(Kind.OT, self.ot.setup(start).to_bytes())
        for sh in self.shapes:
            self.V.append(L.unmask_columns(self.sk, _recv_cts(ch, self.pk, sh.blocks * sh.n_in), sh))
            self.enc_R.append(_recv_cts(ch, self.pk_c, sh.wide_blocks * sh.n_in))

    def run_batch(self, ch: Channel, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.int64)
        n_patches = len(x)
        masks = [L.draw_input_masks(sh, n_patches) for sh in self.shapes]
        for sh, V, enc_R, r in zip(self.shapes, self.V, self.enc_R, masks):      # offline
            wide, narrow = L.user_offline(self.pk_c, self.pk, enc_R, V, r, sh, self.noise)
            _send_cts(ch, self.pk_c, wide)
            _send_cts(ch, self.pk, narrow)
        sh0 = self.shapes[0]
        bound = 1 << (sh0.input_bits + sh0.kappa + 1)
        p_masked = [int(v) + m for row, rs in zip(x.tolist(), masks[0]) for v, m in zip(row, rs)]
        ch.send(Kind.INTEGERS, pack_ints(p_masked, (bound.bit_length() + 7) // 8))
        for k, (st, sh) in enumerate(zip(self.program.dense, self.shapes)):       # online
            act = self.program.activation(st.layer.index)
            cts = _recv_cts(ch, self.pk, n_patches * sh.blocks)
            out = L.user_decode(self.sk, cts, sh, signed=act is None)
            if act is None:
                return np.array(out, dtype=np.int64)
            r_u = [v for row in masks[k + 1] for v in row]
            self.garbler.run(ch, act, [v for row in out for v in row], r_u)
        raise AssertionError("unreachable: the last layer returns")


class PackedCloud:
    def __init__(self, program: Program, pk: P.PublicKey, model: PackedModel, session_id: bytes,
                 keypair: tuple[P.PublicKey, P.PrivateKey] | None = None):
        self.program, self.pk, self.model = program, pk, model
        self.pk_c, self.sk_c = keypair or P.generate_keypair(program.security.modulus_bits)
        self.shapes = program_shapes(program, pk.bits, self.pk_c.bits)
        self.ot = OTExtReceiver(session_id)
        self.evaluator = ActivationEvaluator(self.ot, program.security.kappa)

    def setup(self, ch: Channel) -> None:
        ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(self.pk_c))
        ch.send(Kind.OT, self.ot.setup().to_bytes())
        self.ot.finish_setup(ch.recv(Kind.OT, max_payload=1 << 20))
        own = P.CrtNoise(self.sk_c)
        for sh, cols in zip(self.shapes, self.model.columns):
            R = L.draw_weight_masks(sh)          # used once, then only Enc_c(R) matters
            _send_cts(ch, self.pk, L.masked_columns(self.pk, cols, R, sh))
            _send_cts(ch, self.pk_c, L.encrypt_wide_masks(self.pk_c, R, sh, own))

    def serve_batch(self, ch: Channel) -> int:
        sh0 = self.shapes[0]
        first = P.loads_ciphertexts(self.pk_c, ch.recv(
            Kind.CIPHERTEXTS, max_payload=MAX_PATCHES * sh0.wide_blocks * self.pk_c.byte_width * 2 + 256))
        n_patches = len(first) // sh0.wide_blocks
        if not first or len(first) % sh0.wide_blocks or n_patches > MAX_PATCHES:
            raise ProtocolError(f"{len(first)} offline ciphertexts are not a batch of patches")
        corrections, r_cs = [], []
        for k, (st, sh) in enumerate(zip(self.program.dense, self.shapes)):      # offline
            wide = first if k == 0 else _recv_cts(ch, self.pk_c, n_patches * sh.wide_blocks)
            narrow = _recv_cts(ch, self.pk, n_patches * sh.blocks)
            last = self.program.activation(st.layer.index) is None
            r_c = None if last else L.draw_accumulator_masks(sh, n_patches)
            corrections.append(L.cloud_offline(self.sk_c, self.pk, wide, narrow,
                                               self.model.biases[k], r_c, sh))
            r_cs.append(r_c)
        bound = 1 << (sh0.input_bits + sh0.kappa + 1)
        flat = unpack_ints(ch.recv(Kind.INTEGERS, max_payload=n_patches * sh0.n_in * 32 + 64),
                           bound, n_patches * sh0.n_in)
        y = [flat[p * sh0.n_in:(p + 1) * sh0.n_in] for p in range(n_patches)]
        for k, (st, sh) in enumerate(zip(self.program.dense, self.shapes)):       # online
            _send_cts(ch, self.pk, L.cloud_online(self.pk, self.model.columns[k], y,
                                                  corrections[k], sh))
            act = self.program.activation(st.layer.index)
            if act is None:
                return n_patches
            y_flat = self.evaluator.run(ch, act, [v for row in r_cs[k] for v in row])
            y = [y_flat[p * sh.n_out:(p + 1) * sh.n_out] for p in range(n_patches)]
        raise AssertionError("unreachable: the last layer returns")
