"""The `packed` lowering's cloud: its own key pair and the masks R (provisioning), the
corrections E and the garbling (offline), decrypting D and sending the garbled inputs (online).

See protocol.py for the message flow and docs/protocol.md for why each step is safe.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from gmpy2 import mpz

from veil.backends.executor import Executor
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.framing.payloads import pack_ints
from veil.backends.yao.lowerings.frames import OT_SETUP_BYTES, check_batch, recv_cts, send_cts
from veil.backends.yao.lowerings.garbled_activation import ActivationGarbler, GarbledBatch
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.lowerings.packed.model import PackedModel
from veil.backends.yao.lowerings.packed.shapes import program_shapes
from veil.backends.yao.lowerings.packed.user import MAX_BATCH_PATCHES
from veil.backends.yao.lowerings.parties import BlobReader, Cloud
from veil.backends.yao.ot.extension import OTExtSender
from veil.backends.yao.ot.messages import BaseOTStart
from veil.backends.yao.paillier.pooled import FixedBases, PooledFreshNoise
from veil.compiler.program import Program


@dataclass(frozen=True)
class Provisioning:
    """Per layer: Enc_u(pack(W + R)) and Enc_c(pack(-R)), row-major over [block][input]."""
    masked: tuple[list[mpz], ...]
    neg_R: tuple[list[mpz], ...]


@dataclass
class CloudBatch:
    """The cloud's offline state for one batch: per layer m; per activation its garbling."""
    patches: int
    m: list[list[list[int]]] = field(default_factory=list)
    gc: list[GarbledBatch] = field(default_factory=list)


class PackedCloud(Cloud):
    max_batch_patches = MAX_BATCH_PATCHES

    def __init__(self, program: Program, pk: P.PublicKey, model: PackedModel, session_id: bytes,
                 keypair: tuple[P.PublicKey, P.PrivateKey] | None = None,
                 executor: Executor | None = None):
        super().__init__(program, pk, model, session_id, executor)
        self.shapes = program_shapes(program, pk.bits, pk.bits)
        self.pk_c = self.sk_c = None
        if keypair is not None:
            self._use_key(*keypair)
        self.noise_u = PooledFreshNoise(pk, executor)     # uniform: see its class
        self.columns = [FixedBases(c, pk.nsquare, *L.cloud_exponent_range(sh), executor)
                        for c, sh in zip(model.columns, self.shapes)]
        self.neg_bias = [L.inverted_bias(pk, b, sh) for b, sh in zip(model.biases, self.shapes)]
        self.prov: Provisioning | None = None

    def start_session(self) -> None:
        self.ot = OTExtSender(self.session_id)
        self.garbler = ActivationGarbler(self.ot, self.program.security.kappa,
                                           executor=self.executor)

    def _use_key(self, pk_c: P.PublicKey, sk_c: P.PrivateKey) -> None:
        program_shapes(self.program, self.pk.bits, pk_c.bits)      # the slots must fit
        self.pk_c, self.sk_c = pk_c, sk_c

    def provisioning(self) -> Provisioning:
        """Draw R and make what the user receives once per model and user. A networked cloud
        stores it and resends the same (the user must never see a second W + R)."""
        if self.sk_c is None:                  # the cloud's own pair, for this user and model
            self._use_key(*P.generate_keypair(self.program.security.modulus_bits))
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

    def provision(self) -> dict[str, bytes]:
        self.prov = self.provisioning()
        blobs = {"cloud_key": P.dumps_private_key(self.sk_c)}
        for k, (masked, neg_R) in enumerate(zip(self.prov.masked, self.prov.neg_R)):
            blobs[f"masked{k}"] = P.dumps_ciphertexts(self.pk, masked)
            blobs[f"neg_R{k}"] = P.dumps_ciphertexts(self.pk_c, neg_R)
        return blobs

    def restore(self, read: BlobReader) -> None:
        sk_c = P.loads_private_key(read("cloud_key"))
        self._use_key(sk_c.public, sk_c)
        layers = range(len(self.program.dense))
        self.prov = Provisioning(
            tuple(P.loads_ciphertexts(self.pk, read(f"masked{k}")) for k in layers),
            tuple(P.loads_ciphertexts(self.pk_c, read(f"neg_R{k}")) for k in layers))

    def send_provisioning(self, ch: Channel) -> None:
        ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(self.pk_c))
        for masked, neg_R in zip(self.prov.masked, self.prov.neg_R):
            send_cts(ch, self.pk, masked)
            send_cts(ch, self.pk_c, neg_R)

    def open_session(self, ch: Channel) -> None:
        start = BaseOTStart.from_bytes(ch.recv(Kind.OT, max_payload=OT_SETUP_BYTES))
        ch.send(Kind.OT, self.ot.setup(start).to_bytes())

    def prepare(self, ch: Channel, patches: int | None = None) -> CloudBatch:
        if patches is None:
            patches = self.read_batch_request(ch)
        check_batch(patches, self.max_batch_patches, ProtocolError)
        batch = CloudBatch(patches)
        s = [None] + [L.draw_input_masks(sh, patches) for sh in self.shapes[1:]]
        for k, sh in enumerate(self.shapes):
            m = L.draw_slot_masks(sh, patches)
            send_cts(ch, self.pk, L.cloud_corrections(self.pk, self.columns[k], self.neg_bias[k],
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
            D = recv_cts(ch, self.pk_c, batch.patches * sh.blocks)
            values = [v for row in L.cloud_decode(self.sk_c, D, batch.m[k], sh, self.executor)
                      for v in row]
            if self.program.activation(st.layer.index) is None:
                width = (sh.masked_output_bits + 7) // 8
                ch.send(Kind.INTEGERS, pack_ints(values, width))
                return batch.patches
            self.garbler.send_inputs(ch, batch.gc[k], values)
        raise AssertionError("unreachable: the last layer returns")
