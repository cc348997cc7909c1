"""The garbled activation (PROTOCOL.md), both sides, over a channel.

A garbler G garbles N instances of the masked activation circuit; an evaluator E evaluates:
  prepare (no x_masked needed, so it can run offline):
    E -> G  OT extend request for the bits of r_c mod 2^acc (E is the OT receiver)
    G -> E  OT correction (correlated OT: G's R is the garbling's free-XOR offset, and the
            OT's zero sides are the zero-labels of E's r_c bus), the garbled tables with the
            decoding bits of y_low and the translation table (one frame), and G's active
            labels for r_lo, the low k bits of r_u = r_hi 2^k + r_lo
  online:
    G -> E  G's active labels for x_masked
    E       evaluates, decodes y_low (the low k bits of y_masked = t(x_masked - r_c) + r_u),
            opens its row of the translation table with its labels of the hidden wires carry
            and sign: r_hi + carry - sign, the high bits (compiler.synthesis, gc/translate.py).
            Only E can decode.
The garbler never sees an output label; the evaluator never sees R or a second label. The
garbler chooses the garbling scheme (three-halves unless told otherwise: docs/garbling.md);
the tables name it and the evaluator follows, among the schemes it accepts (all by default).
In `paper` the user garbles (x_masked and r_u are its); in `packed` the cloud garbles (it
holds x + r_c and draws r_u = s, the next layer's input mask) and the user evaluates.
"""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

import numpy as np

from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.executor import Executor
from veil.backends.yao.gc.garble import Scheme, decode, evaluate, input_labels
from veil.backends.yao.gc import translate
from veil.backends.yao.gc.wire import gc_from_bytes, gc_to_bytes, labels_from_bytes, labels_to_bytes
from veil.backends.yao.gc.labels import random_delta
from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.lowerings.garbling_parts import HIDDEN, circuit_key, garble_batch
from veil.backends.yao.ot.messages import ExtendRequest
from veil.compiler.program import ActivationStage
from veil.compiler.synthesis import high_width, low_width
from veil.util.errors import ProtocolError



def uniform_mask(value_bits: int, kappa: int) -> int:
    """A mask for a value of `value_bits` bits: uniform in [2^b, 2^(b+kappa)) (PROTOCOL.md),
    so value + mask is never negative and hides the value up to 2^-kappa."""
    lo = 1 << value_bits
    return lo + secrets.randbelow((lo << kappa) - lo)


def _bits_by_wire(values: np.ndarray, width: int) -> np.ndarray:
    """OT choice bits in (wire, instance) order, matching labels of shape (width, N, 16)."""
    v = np.asarray(values, dtype=np.uint64)
    return ((v[None, :] >> np.arange(width, dtype=np.uint64)[:, None]) & 1).astype(np.uint8).ravel()


@dataclass
class GarbledBatch:
    """A garbler's instances prepared before its x_masked input is known."""
    stage: ActivationStage
    count: int
    secrets: object


@dataclass
class EvaluatorBatch:
    """An evaluator's instances with every label except x_masked's."""
    stage: ActivationStage
    count: int
    gc: object
    labels: dict
    rows: np.ndarray          # the translation table (translate.py)


class ActivationGarbler:
    """The garbler's side (the user in `paper`, the cloud in `packed`). One per session: it
    owns the OT sender and the garbling tweak counter."""

    def __init__(self, ot: OTExtSender, kappa: int, scheme: str | Scheme | None = None,
                 executor: Executor | None = None):
        self.ot, self.kappa, self.scheme = ot, kappa, scheme   # None: gc's default scheme
        self.executor = executor          # a cluster garbles the parts of a batch
        self._tweaks = itertools.count(1)
        self._keys: dict[int, tuple[ActivationStage, str]] = {}   # stage -> circuit_key

    def prepare(self, ch: Channel, stage: ActivationStage, r_u: list[int]) -> GarbledBatch:
        """Everything that needs no x_masked (it can run offline): OT for the evaluator's
        r_c, garbling (in parts on a cluster executor: garbling_parts.py), the tables with the
        translation rows, and the labels of r_u's low bits."""
        t = stage.table
        n, acc, w_a = len(r_u), t.acc_bits, t.out_format.total
        if not all(1 << w_a <= v < 1 << (w_a + self.kappa) for v in r_u):
            raise ValueError(f"output masks must lie in [2^{w_a}, 2^{w_a + self.kappa})")
        m = n * acc
        request = ExtendRequest.from_bytes(ch.recv(Kind.OT, max_payload=16 * m + 1024), m)
        delta = random_delta()
        zero_rc, correction = self.ot.correlated(request, delta, m)
        if id(stage) not in self._keys:
            self._keys[id(stage)] = (stage, circuit_key(stage))
        part, secrets_ = garble_batch(stage, self._keys[id(stage)][1], self.executor,
                                      next(self._tweaks), delta, zero_rc.reshape(acc, n, 16),
                                      r_u, self.scheme, self.kappa)
        ch.send(Kind.OT, correction.to_bytes())
        ch.send(Kind.GARBLED_TABLES, gc_to_bytes(part.gc) + translate.table_to_bytes(part.rows))
        ch.send(Kind.LABELS, labels_to_bytes(part.r_lo))
        return GarbledBatch(stage, n, secrets_)

    def send_inputs(self, ch: Channel, batch: GarbledBatch, x_masked: list[int]) -> None:
        """The online step: labels of x_masked (taken mod 2^acc here)."""
        if len(x_masked) != batch.count:
            raise ValueError(f"{len(x_masked)} inputs for {batch.count} garbled instances")
        mod = (1 << batch.stage.table.acc_bits) - 1
        ch.send(Kind.LABELS, labels_to_bytes(input_labels(
            batch.secrets, "x_masked", np.array([v & mod for v in x_masked], np.uint64))))

    def run(self, ch: Channel, stage: ActivationStage, x_masked: list[int],
            r_u: list[int] | None = None) -> list[int]:
        """Both steps at once; returns the output masks r_u (drawn here unless given)."""
        if r_u is None:
            r_u = [uniform_mask(stage.table.out_format.total, self.kappa) for _ in x_masked]
        elif len(r_u) != len(x_masked):
            raise ValueError(f"need {len(x_masked)} output masks, got {len(r_u)}")
        self.send_inputs(ch, self.prepare(ch, stage, r_u), x_masked)
        return r_u


class ActivationEvaluator:
    """The evaluator's side (the cloud in `paper`, the user in `packed`). One per session:
    it owns the OT receiver."""

    def __init__(self, ot: OTExtReceiver, kappa: int,
                 schemes: tuple[str | Scheme, ...] = tuple(Scheme)):
        self.ot, self.kappa, self.schemes = ot, kappa, schemes

    def prepare(self, ch: Channel, stage: ActivationStage, r_c: list[int]) -> EvaluatorBatch:
        """OT for the bits of r_c (mod 2^acc), then the tables, the translation rows and the
        labels of r_u's low bits."""
        t, lin = stage.table, stage.masked_linear
        n, acc, k = len(r_c), t.acc_bits, low_width(t)
        hi_bits = high_width(t, self.kappa)
        mod = (1 << acc) - 1
        low = np.array([v & mod for v in r_c], np.uint64)
        ch.send(Kind.OT, self.ot.extend(_bits_by_wire(low, acc)).to_bytes())
        labels_rc = self.ot.finish_correlated(ch.recv(Kind.OT, max_payload=16 * n * acc))
        per_instance = 2 * 16 * lin.and_count + 64 * 16 + 1024   # above every scheme's size
        per_instance += translate.table_bytes(1, hi_bits)
        frame = ch.recv(Kind.GARBLED_TABLES, max_payload=n * per_instance + 4096)
        size = translate.table_bytes(n, hi_bits)
        if len(frame) <= size:
            raise ProtocolError(f"garbled tables frame has {len(frame)} bytes, too few for "
                                f"its {size} bytes of translation rows")
        gc = gc_from_bytes(frame[:-size], lin, n, self.schemes, hidden=HIDDEN)
        rows = translate.table_from_bytes(frame[-size:], n, hi_bits)
        labels = {"r_c": labels_rc.reshape(acc, n, 16),
                  "r_lo": labels_from_bytes(ch.recv(Kind.LABELS, max_payload=16 * n * k + 64),
                                            k, n)}
        return EvaluatorBatch(stage, n, gc, labels, rows)

    def finish(self, ch: Channel, batch: EvaluatorBatch) -> list[int]:
        """The online step: x_masked's labels, evaluate, decode y_low, open the translation
        rows: y_masked = t(x) + r_u."""
        acc, n = batch.stage.table.acc_bits, batch.count
        labels = dict(batch.labels, x_masked=labels_from_bytes(
            ch.recv(Kind.LABELS, max_payload=16 * n * acc + 64), acc, n))
        out = evaluate(batch.stage.masked_linear, batch.gc, labels)
        low = decode(batch.gc, {"y_low": out["y_low"]})["y_low"]
        t = batch.stage.table
        high = translate.open_table(out["carry"][0], out["sign"][0], batch.rows,
                                    high_width(t, self.kappa), batch.gc.tweak_base)
        return [(h << low_width(t)) + int(v) for h, v in zip(high, low)]

    def run(self, ch: Channel, stage: ActivationStage, r_c: list[int]) -> list[int]:
        return self.finish(ch, self.prepare(ch, stage, r_c))
