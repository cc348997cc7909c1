"""What the `packed` owner publishes, and how the cloud receives and stores it.

Per layer: packed columns Enc_u(pack W[:, j]) for every block and input, then the packed bias
Enc_u(pack b) per block (packed_linear.publish_columns / publish_bias).
"""
from __future__ import annotations

from dataclasses import dataclass

from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.lowerings.frames import recv_cts, send_cts
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.lowerings.parties import BlobReader, EncryptedModel, Owner, Progress
from veil.compiler.program import Program


@dataclass(frozen=True)
class PackedModel(EncryptedModel):
    """Per layer, packed columns [block][input] and packed biases [block]."""
    columns: tuple[list[list[mpz]], ...]
    biases: tuple[list[mpz], ...]

    @classmethod
    def receive(cls, ch: Channel, program: Program, pk_u: P.PublicKey) -> "PackedModel":
        cols, biases = [], []
        for st in program.dense:
            sh = st.packed
            flat = recv_cts(ch, pk_u, sh.blocks * sh.n_in)
            cols.append([flat[k * sh.n_in:(k + 1) * sh.n_in] for k in range(sh.blocks)])
            biases.append(recv_cts(ch, pk_u, sh.blocks))
        return cls(tuple(cols), tuple(biases))

    def blobs(self, pk_u: P.PublicKey) -> dict[str, bytes]:
        out = {}
        for k, (cols, bias) in enumerate(zip(self.columns, self.biases)):
            out[f"columns{k}"] = P.dumps_ciphertexts(pk_u, [c for row in cols for c in row])
            out[f"bias{k}"] = P.dumps_ciphertexts(pk_u, bias)
        return out

    @classmethod
    def from_blobs(cls, program: Program, pk_u: P.PublicKey, read: BlobReader) -> "PackedModel":
        cols, biases = [], []
        for k, st in enumerate(program.dense):
            sh = st.packed
            flat = P.loads_ciphertexts(pk_u, read(f"columns{k}"))
            cols.append([flat[b * sh.n_in:(b + 1) * sh.n_in] for b in range(sh.blocks)])
            biases.append(P.loads_ciphertexts(pk_u, read(f"bias{k}")))
        return cls(tuple(cols), tuple(biases))


def receive_packed_model(ch: Channel, program: Program, pk_u: P.PublicKey) -> PackedModel:
    return PackedModel.receive(ch, program, pk_u)


class PackedOwner(Owner):
    def publish(self, ch: Channel, pk_u: P.PublicKey, noise: P.NoiseSource | None = None,
                progress: Progress = lambda n: None) -> None:
        for st in self.program.dense:
            sh = st.packed
            cols = L.publish_columns(pk_u, st.layer, sh, noise, progress)
            send_cts(ch, pk_u, [c for row in cols for c in row])
            bias = L.publish_bias(pk_u, st.layer, sh, noise)
            send_cts(ch, pk_u, bias)
            progress(len(bias))

    def ciphertexts(self) -> int:
        return sum(st.packed.blocks * (st.layer.n_in + 1) for st in self.program.dense)
