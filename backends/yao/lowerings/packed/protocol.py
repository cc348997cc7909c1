"""The `packed` lowering end to end: owner, user and cloud (docs/protocol.md, "packed").

Owner: per layer, packed columns Enc_u(pack W[:, j]) and Enc_u(pack b) to the cloud.
Provisioning (once per model and user; the cloud has its own key pair c):
  C -> U  pk_c;  per layer: Enc_u(pack(W + R)) rerandomised, Enc_c(pack(-R))
Session: OT base setup (U is the OT-extension receiver: the cloud garbles).
Offline, per batch of P patches (no image needed; every message is one frame):
  U -> C  P
  C -> U  per layer: E = Enc_u(pack(W s - b + m))   (packed_linear.cloud_corrections)
  per activation: garbling prepared (OT for U's r_c, tables, labels of C's r_u = s)
Online, per batch:
  per layer:  U -> C  D = Enc_c(pack(W y + b + r_c - m))   (y + s, or the patch for layer 1)
    hidden:   C -> U  labels of x + r_c; U evaluates y' = t(x) + s: the next layer's input
    last:     C -> U  q + r_c in the clear; U removes r_c
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from gmpy2 import mpz

from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, Kind, ProtocolError
from veil.backends.yao.lowerings.garbled_activation import (ActivationEvaluator, ActivationGarbler,
                                                  EvaluatorBatch, GarbledBatch)
from veil.backends.yao.framing.payloads import pack_ints, unpack_ints
from veil.backends.yao.paillier.pooled import FixedBases, PooledFreshNoise
from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot.messages import BaseOTStart
from veil.backends.yao.lowerings.packed.shapes import PackedShapes
from veil.compiler.program import Program

MAX_PATCHES = 64               # per batch: bounds every message and the garbled tables held


def _send_cts(ch: Channel, pk: P.PublicKey, cts: Sequence[mpz]) -> None:
    ch.send(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, list(cts)))


def _recv_cts(ch: Channel, pk: P.PublicKey, count: int) -> list[mpz]:
    cts = P.loads_ciphertexts(pk, ch.recv(Kind.CIPHERTEXTS,
                                          max_payload=count * pk.byte_width * 2 + 256))
    if len(cts) != count:
        raise ProtocolError(f"expected {count} ciphertexts, got {len(cts)}")
    return cts


def _split(flat: Sequence[int], width: int) -> list[list[int]]:
    return [list(flat[i:i + width]) for i in range(0, len(flat), width)]


def program_shapes(program: Program, user_bits: int, cloud_bits: int) -> list[PackedShapes]:
    """Per layer; checks the keys fit the slot layout and each activation feeds the next."""
    if user_bits != program.security.modulus_bits:     # the slot layout was fixed for it
        raise ValueError("the user's key size differs from the program's security settings")
    if cloud_bits < user_bits:
        raise ValueError("the cloud's key is shorter than the user's: slots would not fit")
    shapes = [PackedShapes.of(st.layer, program.security) for st in program.dense]
    for st in program.dense:
        act = program.activation(st.layer.index)
        nxt = st.layer.index          # 1-based index of the next dense stage = list position
        if act is not None and act.table.out_format.total != shapes[nxt].input_bits:
            raise ValueError(f"act{st.layer.index}'s output is not layer {nxt + 1}'s input")
    return shapes


def read_batch_request(payload: bytes) -> int:
    (patches,) = unpack_ints(payload, 1 << 16, 1)
    if not 0 < patches <= MAX_PATCHES:
        raise ProtocolError(f"a batch of {patches} patches (1 to {MAX_PATCHES} allowed)")
    return patches


@dataclass(frozen=True)
class Provisioning:
    """Per layer: Enc_u(pack(W + R)) and Enc_c(pack(-R)), row-major over [block][input]."""
    masked: tuple[list[mpz], ...]
    neg_R: tuple[list[mpz], ...]


@dataclass(frozen=True)
class PackedModel:
    """What the owner uploads: per layer, packed columns [block][input] and packed biases."""
    columns: tuple[list[list[mpz]], ...]
    biases: tuple[list[mpz], ...]


class PackedOwner:
    def __init__(self, program: Program):
        self.program = program

    def publish(self, ch: Channel, pk_u: P.PublicKey, noise: P.NoiseSource | None = None,
                progress: Callable[[int], None] = lambda n: None) -> None:
        """Per layer, the packed columns then the packed bias; `progress(count)` as
        ciphertexts are made (ciphertexts() of them in all)."""
        for st in self.program.dense:
            sh = PackedShapes.of(st.layer, self.program.security)
            cols = L.publish_columns(pk_u, st.layer, sh, noise, progress)
            _send_cts(ch, pk_u, [c for row in cols for c in row])
            bias = L.publish_bias(pk_u, st.layer, sh, noise)
            _send_cts(ch, pk_u, bias)
            progress(len(bias))

    def ciphertexts(self) -> int:
        return sum(st.packed.blocks * (st.layer.n_in + 1) for st in self.program.dense)


def receive_packed_model(ch: Channel, program: Program, pk_u: P.PublicKey) -> PackedModel:
    cols, biases = [], []
    for st in program.dense:
        sh = PackedShapes.of(st.layer, program.security)
        flat = _recv_cts(ch, pk_u, sh.blocks * sh.n_in)
        cols.append([flat[k * sh.n_in:(k + 1) * sh.n_in] for k in range(sh.blocks)])
        biases.append(_recv_cts(ch, pk_u, sh.blocks))
    return PackedModel(tuple(cols), tuple(biases))


@dataclass
class UserBatch:
    """The user's offline state for one batch: per layer F and r_c; per activation E-side GC."""
    patches: int
    F: list[list[mpz]] = field(default_factory=list)
    r_c: list[list[list[int]]] = field(default_factory=list)
    gc: list[EvaluatorBatch] = field(default_factory=list)


@dataclass
class CloudBatch:
    """The cloud's offline state for one batch: per layer m; per activation its garbling."""
    patches: int
    m: list[list[list[int]]] = field(default_factory=list)
    gc: list[GarbledBatch] = field(default_factory=list)


class PackedUser:
    def __init__(self, program: Program, pk: P.PublicKey, sk: P.PrivateKey, session_id: bytes,
                 workers: int = 1):
        self.program, self.pk, self.sk, self.workers = program, pk, sk, workers
        self.ot = OTExtReceiver(session_id)
        self.evaluator = ActivationEvaluator(self.ot, program.security.kappa)
        self.Q: list[FixedBases] = []

    def provision(self, ch: Channel) -> None:
        """Once per model and user: V = W + R, then Q = Enc_c(pack W) per layer."""
        self.pk_c = P.loads_public_key(ch.recv(Kind.PUBLIC_KEY, max_payload=4096))
        self.shapes = program_shapes(self.program, self.pk.bits, self.pk_c.bits)
        self.noise_c = PooledFreshNoise(self.pk_c, self.workers)   # uniform: see its class
        for sh in self.shapes:
            V = L.unmask_columns(self.sk, _recv_cts(ch, self.pk, sh.blocks * sh.n_in), sh,
                                 self.workers)
            neg_R = _recv_cts(ch, self.pk_c, sh.blocks * sh.n_in)
            low = -sh.exponent_bound + 1 if sh.first else 0
            self.Q.append(FixedBases(L.user_columns(self.pk_c, V, neg_R, sh), self.pk_c.nsquare,
                                     low, sh.exponent_bound, self.workers))

    def open_session(self, ch: Channel) -> None:
        ch.send(Kind.OT, self.ot.setup().to_bytes())
        self.ot.finish_setup(ch.recv(Kind.OT, max_payload=1 << 20))

    def setup(self, ch: Channel) -> None:
        self.provision(ch)
        self.open_session(ch)

    def prepare(self, ch: Channel, patches: int) -> UserBatch:
        """The offline phase for the next `patches` patches: needs no image."""
        if not 0 < patches <= MAX_PATCHES:
            raise ValueError(f"a batch holds 1 to {MAX_PATCHES} patches, not {patches}")
        ch.send(Kind.INTEGERS, pack_ints([patches], 2))
        batch = UserBatch(patches)
        for sh in self.shapes:
            E = _recv_cts(ch, self.pk, patches * sh.blocks)
            r_c = L.draw_accumulator_masks(sh, patches)
            batch.F.append(L.user_corrections(self.sk, self.pk_c, E, r_c, sh, self.noise_c,
                                              self.workers))
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
            _send_cts(ch, self.pk_c, L.user_products(self.pk_c, self.Q[k], y, batch.F[k], sh))
            if self.program.activation(st.layer.index) is None:
                bound = 1 << (sh.acc_bits + sh.kappa + 1)
                flat = unpack_ints(ch.recv(Kind.INTEGERS, max_payload=len(x) * sh.n_out * 16 + 64),
                                   bound, len(x) * sh.n_out)
                return np.array(L.user_output(_split(flat, sh.n_out), batch.r_c[k], sh),
                                dtype=np.int64)
            y = _split(self.evaluator.finish(ch, batch.gc[k]), sh.n_out)
        raise AssertionError("unreachable: the last layer returns")

    def run_batch(self, ch: Channel, x: np.ndarray) -> np.ndarray:
        return self.run_online(ch, self.prepare(ch, len(x)), x)


class PackedCloud:
    def __init__(self, program: Program, pk: P.PublicKey, model: PackedModel, session_id: bytes,
                 keypair: tuple[P.PublicKey, P.PrivateKey] | None = None, workers: int = 1):
        self.program, self.pk, self.model, self.workers = program, pk, model, workers
        self.pk_c, self.sk_c = keypair or P.generate_keypair(program.security.modulus_bits)
        self.shapes = program_shapes(program, pk.bits, self.pk_c.bits)
        self.ot = OTExtSender(session_id)
        self.garbler = ActivationGarbler(self.ot, program.security.kappa)
        self.noise_u = PooledFreshNoise(pk, workers)     # uniform: see its class
        # the cloud's exponents are its masks s on layers 2..: in [2^in, 2^(in + kappa))
        self.columns = [FixedBases(c, pk.nsquare, 0, 1 << (sh.input_bits + sh.kappa), workers)
                        for c, sh in zip(model.columns, self.shapes)]
        self.neg_bias = [L.inverted_bias(pk, b, sh) for b, sh in zip(model.biases, self.shapes)]

    def provisioning(self) -> Provisioning:
        """Draw R and make what the user receives once per model and user. A networked cloud
        stores it and resends the same (the user must never see a second W + R)."""
        own = P.ShortExpNoise(self.pk_c)       # fast mode under its own key too
        # The masked columns' randomness is only the owner's noise times this factor: no
        # exponent the user should not learn ever multiplies it into a ciphertext without a
        # uniform factor (E has one), so the fast mode is enough here (docs/protocol.md).
        rerandomise = P.ShortExpNoise(self.pk)
        masked, neg_R = [], []
        for sh, cols in zip(self.shapes, self.model.columns):
            R = L.draw_weight_masks(sh)          # used here only: what stays is Enc_c(-R)
            masked.append(L.masked_columns(self.pk, cols, R, sh, rerandomise))
            neg_R.append(L.negated_masks(self.pk_c, R, sh, own))
        return Provisioning(tuple(masked), tuple(neg_R))

    def send_provisioning(self, ch: Channel, prov: Provisioning) -> None:
        ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(self.pk_c))
        for masked, neg_R in zip(prov.masked, prov.neg_R):
            _send_cts(ch, self.pk, masked)
            _send_cts(ch, self.pk_c, neg_R)

    def provision(self, ch: Channel) -> None:
        self.send_provisioning(ch, self.provisioning())

    def open_session(self, ch: Channel) -> None:
        start = BaseOTStart.from_bytes(ch.recv(Kind.OT, max_payload=1 << 20))
        ch.send(Kind.OT, self.ot.setup(start).to_bytes())

    def setup(self, ch: Channel) -> None:
        self.provision(ch)
        self.open_session(ch)

    def prepare(self, ch: Channel, patches: int | None = None) -> CloudBatch:
        """The offline phase of the user's next batch; `patches` when the caller has already
        read the batch request (see read_batch_request)."""
        if patches is None:
            patches = read_batch_request(ch.recv(Kind.INTEGERS, max_payload=64))
        elif not 0 < patches <= MAX_PATCHES:
            raise ProtocolError(f"a batch of {patches} patches (1 to {MAX_PATCHES} allowed)")
        batch = CloudBatch(patches)
        s = [None] + [L.draw_input_masks(sh, patches) for sh in self.shapes[1:]]
        for k, sh in enumerate(self.shapes):
            m = L.draw_slot_masks(sh, patches)
            _send_cts(ch, self.pk, L.cloud_corrections(self.pk, self.columns[k], self.neg_bias[k],
                                                       s[k], m, sh, self.noise_u))
            batch.m.append(m)
        for k, st in enumerate(self.program.dense):
            act = self.program.activation(st.layer.index)
            if act is not None:
                r_u = [v for row in s[k + 1] for v in row]
                batch.gc.append(self.garbler.prepare(ch, act, r_u))
        return batch

    def serve_online(self, ch: Channel, batch: CloudBatch) -> int:
        for k, (st, sh) in enumerate(zip(self.program.dense, self.shapes)):
            D = _recv_cts(ch, self.pk_c, batch.patches * sh.blocks)
            values = [v for row in L.cloud_decode(self.sk_c, D, batch.m[k], sh, self.workers)
                      for v in row]
            if self.program.activation(st.layer.index) is None:
                width = (sh.acc_bits + sh.kappa + 1 + 7) // 8
                ch.send(Kind.INTEGERS, pack_ints(values, width))
                return batch.patches
            self.garbler.send_inputs(ch, batch.gc[k], values)
        raise AssertionError("unreachable: the last layer returns")

    def serve_batch(self, ch: Channel) -> int:
        return self.serve_online(ch, self.prepare(ch))
