"""What the `paper` owner publishes: every weight and (accumulator-aligned) bias encrypted
element-wise under the user's key; how the cloud receives and stores it."""
from __future__ import annotations

from dataclasses import dataclass

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.lowerings.frames import recv_cts, send_cts
from veil.backends.yao.lowerings.parties import BlobReader, EncryptedModel, Owner, Progress
from veil.compiler.program import Program


@dataclass(frozen=True)
class PaperModel(EncryptedModel):
    """Element-wise ciphertexts, one list per layer (row-major), and the biases."""
    weights: tuple[list, ...]
    biases: tuple[list, ...]

    @classmethod
    def receive(cls, ch: Channel, program: Program, pk_u: P.PublicKey) -> "PaperModel":
        """Exactly the ciphertext counts the public sizes imply, under the user's key (the
        codec checks the key fingerprint and every ciphertext's range)."""
        ws, bs = [], []
        for stage in program.dense:
            ws.append(recv_cts(ch, pk_u, stage.layer.n_in * stage.layer.n_out))
            bs.append(recv_cts(ch, pk_u, stage.layer.n_out))
        return cls(tuple(ws), tuple(bs))

    def blobs(self, pk_u: P.PublicKey) -> dict[str, bytes]:
        out = {}
        for k, (ws, bs) in enumerate(zip(self.weights, self.biases)):
            out[f"weights{k}"] = P.dumps_ciphertexts(pk_u, ws)
            out[f"bias{k}"] = P.dumps_ciphertexts(pk_u, bs)
        return out

    @classmethod
    def from_blobs(cls, program: Program, pk_u: P.PublicKey, read: BlobReader) -> "PaperModel":
        layers = range(len(program.dense))
        return cls(tuple(P.loads_ciphertexts(pk_u, read(f"weights{k}")) for k in layers),
                   tuple(P.loads_ciphertexts(pk_u, read(f"bias{k}")) for k in layers))


def publish_paper(program: Program, pk: P.PublicKey, noise: P.NoiseSource | None = None) -> PaperModel:
    ws, bs = [], []
    for stage in program.dense:
        L = stage.layer
        ws.append(P.encrypt_signed(pk, [int(v) for v in L.weights.ravel()], noise))
        shift = L.acc_frac - L.bias_format.frac
        bs.append(P.encrypt_signed(pk, [int(v) << shift for v in L.bias], noise))
    return PaperModel(tuple(ws), tuple(bs))


def receive_paper_model(ch: Channel, program: Program, pk: P.PublicKey) -> PaperModel:
    return PaperModel.receive(ch, program, pk)


class PaperOwner(Owner):
    """O: encrypts its model under the user's key, uploads it to the cloud, goes offline."""

    def publish(self, ch: Channel, pk_u: P.PublicKey, noise: P.NoiseSource | None = None,
                progress: Progress = lambda n: None) -> None:
        model = publish_paper(self.program, pk_u, noise)
        for ws, bs in zip(model.weights, model.biases):
            send_cts(ch, pk_u, ws)
            send_cts(ch, pk_u, bs)
            progress(len(ws) + len(bs))

    def ciphertexts(self) -> int:
        return sum(st.layer.n_out * (st.layer.n_in + 1) for st in self.program.dense)
