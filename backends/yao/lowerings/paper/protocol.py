"""The `paper` lowering end to end: owner, user and cloud (PROTOCOL.md, lowering 1).

Owner:  encrypts every weight and (accumulator-aligned) bias under the user's key.
Per batch of P patches (every message below is one frame; counts are checked on receipt):
  U -> C  Enc(p) for the quantised input patches
  per layer:
    C <-> U  Erkin products (paper_linear.py); C sums rows and adds Enc(b)
    hidden:  C -> U  Enc(x + r_c), r_c uniform in [2^acc, 2^(acc+kappa)), rerandomised
             U       decrypts x' = x + r_c; garbled activation (garbled_activation.py)
             U -> C  Enc(r_u);  C: Enc(t) = Enc(y') * Enc(r_u)^-1 with y' = t + r_u
    last:    C -> U  Enc(q), rerandomised; U decrypts the output
"""
from __future__ import annotations

from dataclasses import dataclass

import gmpy2
import numpy as np

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, Kind, ProtocolError
from veil.backends.yao.lowerings.garbled_activation import (ActivationEvaluator, ActivationGarbler,
                                                  uniform_mask)
from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot.messages import BaseOTStart
from veil.backends.yao.lowerings.paper.linear import accumulate, cloud_mask, cloud_unmask, user_multiply
from veil.compiler.program import Program

MAX_PATCHES = 1 << 16          # per batch; bounds every message the cloud accepts


@dataclass(frozen=True)
class PaperModel:
    """What the owner uploads: element-wise ciphertexts, one list per layer (row-major)."""
    weights: tuple[list, ...]
    biases: tuple[list, ...]


def publish_paper(program: Program, pk: P.PublicKey, noise: P.NoiseSource | None = None) -> PaperModel:
    ws, bs = [], []
    for stage in program.dense:
        L = stage.layer
        ws.append(P.encrypt_signed(pk, [int(v) for v in L.weights.ravel()], noise))
        shift = L.acc_frac - L.bias_format.frac
        bs.append(P.encrypt_signed(pk, [int(v) << shift for v in L.bias], noise))
    return PaperModel(tuple(ws), tuple(bs))


def send_public_key(ch: Channel, pk: P.PublicKey) -> None:
    ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(pk))


def recv_public_key(ch: Channel) -> P.PublicKey:
    return P.loads_public_key(ch.recv(Kind.PUBLIC_KEY, max_payload=4096))


class PaperOwner:
    """O: encrypts its model under the user's key, uploads it to the cloud, goes offline."""

    def __init__(self, program: Program):
        self.program = program

    def publish(self, ch: Channel, pk: P.PublicKey, noise: P.NoiseSource | None = None) -> None:
        model = publish_paper(self.program, pk, noise)
        for ws, bs in zip(model.weights, model.biases):
            _send_cts(ch, pk, ws)
            _send_cts(ch, pk, bs)


def receive_paper_model(ch: Channel, program: Program, pk: P.PublicKey) -> PaperModel:
    """C's side of the upload: exactly the ciphertext counts the public sizes imply, under
    the user's key (the codec checks the key fingerprint and every ciphertext's range)."""
    ws, bs = [], []
    for stage in program.dense:
        ws.append(_recv_cts(ch, pk, stage.layer.n_in * stage.layer.n_out))
        bs.append(_recv_cts(ch, pk, stage.layer.n_out))
    return PaperModel(tuple(ws), tuple(bs))


def _recv_cts(ch: Channel, pk: P.PublicKey, count: int) -> list:
    cts = P.loads_ciphertexts(pk, ch.recv(Kind.CIPHERTEXTS, max_payload=count * pk.byte_width * 2 + 256))
    if len(cts) != count:
        raise ProtocolError(f"expected {count} ciphertexts, got {len(cts)}")
    return cts


def _send_cts(ch: Channel, pk: P.PublicKey, cts: list) -> None:
    ch.send(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, cts))


class PaperUser:
    def __init__(self, program: Program, pk: P.PublicKey, sk: P.PrivateKey, session_id: bytes):
        self.program, self.pk, self.sk = program, pk, sk
        self.kappa = program.security.kappa
        self.noise = P.CrtNoise(sk)            # the key owner's fast, exact encryption
        self.ot = OTExtSender(session_id)
        self.garbler = ActivationGarbler(self.ot, self.kappa)

    def setup(self, ch: Channel) -> None:
        start = BaseOTStart.from_bytes(ch.recv(Kind.OT, max_payload=1 << 20))
        ch.send(Kind.OT, self.ot.setup(start).to_bytes())

    def run_batch(self, ch: Channel, x: np.ndarray) -> np.ndarray:
        pk, sk = self.pk, self.sk
        n_patches = len(x)
        _send_cts(ch, pk, P.encrypt_signed(pk, [int(v) for v in np.asarray(x).ravel()], self.noise))
        for stage in self.program.dense:
            L = stage.layer
            request = _recv_cts(ch, pk, 2 * n_patches * L.n_out * L.n_in)
            _send_cts(ch, pk, user_multiply(sk, request, self.noise))
            act = self.program.activation(L.index)
            masked = _recv_cts(ch, pk, n_patches * L.n_out)
            if act is None:
                return np.array(P.decrypt_signed(sk, masked), dtype=np.int64).reshape(n_patches, -1)
            x_masked = P.decrypt(sk, masked)
            bound = 1 << (L.acc_bits + self.kappa + 1)
            if any(v >= bound for v in x_masked):
                raise ProtocolError("masked accumulator out of range")
            r_u = self.garbler.run(ch, act, x_masked)
            _send_cts(ch, pk, P.encrypt(pk, r_u, self.noise))
        raise AssertionError("unreachable: the last layer returns")


class PaperCloud:
    def __init__(self, program: Program, pk: P.PublicKey, model: PaperModel, session_id: bytes):
        self.program, self.pk, self.model = program, pk, model
        self.kappa = program.security.kappa
        self.ot = OTExtReceiver(session_id)
        self.evaluator = ActivationEvaluator(self.ot, self.kappa)

    def setup(self, ch: Channel) -> None:
        ch.send(Kind.OT, self.ot.setup().to_bytes())
        self.ot.finish_setup(ch.recv(Kind.OT, max_payload=1 << 20))

    def serve_batch(self, ch: Channel) -> int:
        pk, n2 = self.pk, self.pk.nsquare
        n_in0 = self.program.dense[0].layer.n_in
        enc_y = P.loads_ciphertexts(pk, ch.recv(
            Kind.CIPHERTEXTS, max_payload=MAX_PATCHES * n_in0 * pk.byte_width * 2 + 256))
        if not enc_y or len(enc_y) % n_in0 or len(enc_y) // n_in0 > MAX_PATCHES:
            raise ProtocolError(f"input ciphertext count {len(enc_y)} is not a batch of patches")
        n_patches = len(enc_y) // n_in0
        for k, stage in enumerate(self.program.dense):
            L = stage.layer
            enc_w = self.model.weights[k]
            flat_w = [enc_w[i * L.n_in + j] for _ in range(n_patches)
                      for i in range(L.n_out) for j in range(L.n_in)]
            flat_y = [enc_y[p * L.n_in + j] for p in range(n_patches)
                      for _ in range(L.n_out) for j in range(L.n_in)]
            request, masks = cloud_mask(pk, flat_w, flat_y)
            _send_cts(ch, pk, request)
            replies = _recv_cts(ch, pk, len(flat_w))
            acc = accumulate(pk, cloud_unmask(pk, replies, flat_w, flat_y, masks),
                             self.model.biases[k], L.n_in)
            act = self.program.activation(L.index)
            if act is None:
                _send_cts(ch, pk, P.rerandomise_all(pk, acc))
                return n_patches
            r_c = [uniform_mask(L.acc_bits, self.kappa) for _ in acc]
            _send_cts(ch, pk, P.rerandomise_all(pk, [c * (1 + r * pk.n) % n2 for c, r in zip(acc, r_c)]))
            y_masked = self.evaluator.run(ch, act, r_c)
            enc_ru = _recv_cts(ch, pk, len(acc))
            # Enc(t) = Enc(y') / Enc(r_u); Enc(y') with unit randomness is fine: it is
            # never sent, only masked and rerandomised inside the next Erkin request.
            enc_y = [(1 + y * pk.n) * gmpy2.invert(c, n2) % n2 for y, c in zip(y_masked, enc_ru)]
        raise AssertionError("unreachable: the last layer returns")
