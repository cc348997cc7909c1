"""The garbled activation (PROTOCOL.md), both sides, over a channel.

The user U garbles N instances of the masked activation circuit; the cloud C evaluates them:
  C -> U  OT extend request for the bits of r_c mod 2^acc (C is the OT receiver)
  U -> C  OT correction (correlated OT: U's R is the garbling's free-XOR offset, and the
          OT's zero sides are the zero-labels of C's r_c bus), the garbled tables with the
          decoding bits, and U's active labels for x_masked and r_u
  C       evaluates, decodes y_masked = t(x_masked - r_c) + r_u: only C can decode
The garbler never sees an output label; the evaluator never sees R or a second label.
"""
from __future__ import annotations

import itertools
import secrets

import numpy as np

from veil.backends.yao.channel import Channel, Kind
from veil.backends.yao.garble import decode, evaluate, garble, input_labels
from veil.backends.yao.gc_wire import gc_from_bytes, gc_to_bytes, labels_from_bytes, labels_to_bytes
from veil.backends.yao.labels import random_delta
from veil.backends.yao.ot_extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot_messages import ExtendRequest
from veil.compiler.program import ActivationStage


def uniform_mask(value_bits: int, kappa: int) -> int:
    """A mask for a value of `value_bits` bits: uniform in [2^b, 2^(b+kappa)) (PROTOCOL.md),
    so value + mask is never negative and hides the value up to 2^-kappa."""
    lo = 1 << value_bits
    return lo + secrets.randbelow((lo << kappa) - lo)


def _bits_by_wire(values: np.ndarray, width: int) -> np.ndarray:
    """OT choice bits in (wire, instance) order, matching labels of shape (width, N, 16)."""
    v = np.asarray(values, dtype=np.uint64)
    return ((v[None, :] >> np.arange(width, dtype=np.uint64)[:, None]) & 1).astype(np.uint8).ravel()


class ActivationGarbler:
    """U's side. One per session: it owns the OT sender and the garbling tweak counter."""

    def __init__(self, ot: OTExtSender, kappa: int):
        self.ot, self.kappa = ot, kappa
        self._tweaks = itertools.count(1)

    def run(self, ch: Channel, stage: ActivationStage, x_masked: list[int],
            r_u: list[int] | None = None) -> list[int]:
        """Garble for these masked accumulators (mod 2^acc is taken here) and return the
        output masks r_u: drawn here, or given (the packed lowering chooses them offline as
        the next layer's input masks)."""
        t, lin = stage.table, stage.masked_linear
        n, acc, w_a = len(x_masked), t.acc_bits, t.out_format.total
        if r_u is None:
            r_u = [uniform_mask(w_a, self.kappa) for _ in range(n)]
        elif len(r_u) != n or not all(1 << w_a <= v < 1 << (w_a + self.kappa) for v in r_u):
            raise ValueError(f"need {n} output masks in [2^{w_a}, 2^{w_a + self.kappa})")
        m = n * acc
        request = ExtendRequest.from_bytes(ch.recv(Kind.OT, max_payload=16 * m + 1024), m)
        delta = random_delta()
        zero_rc, correction = self.ot.correlated(request, delta, m)
        gc, secrets_ = garble(lin, n, next(self._tweaks), delta=delta,
                              zero_labels={"r_c": zero_rc.reshape(acc, n, 16)})
        mod = (1 << acc) - 1
        ch.send(Kind.OT, correction.to_bytes())
        ch.send(Kind.GARBLED_TABLES, gc_to_bytes(gc))
        ch.send(Kind.LABELS, labels_to_bytes(
            input_labels(secrets_, "x_masked", np.array([v & mod for v in x_masked], np.uint64))))
        ch.send(Kind.LABELS, labels_to_bytes(
            input_labels(secrets_, "r_u", np.array(r_u, np.uint64))))
        return r_u


class ActivationEvaluator:
    """C's side. One per session: it owns the OT receiver."""

    def __init__(self, ot: OTExtReceiver, kappa: int):
        self.ot, self.kappa = ot, kappa

    def run(self, ch: Channel, stage: ActivationStage, r_c: list[int]) -> list[int]:
        """Evaluate with C's masks r_c; returns y_masked = t(x) + r_u per instance."""
        t, lin = stage.table, stage.masked_linear
        n, acc = len(r_c), t.acc_bits
        w_ru = t.out_format.total + self.kappa
        mod = (1 << acc) - 1
        low = np.array([v & mod for v in r_c], np.uint64)
        ch.send(Kind.OT, self.ot.extend(_bits_by_wire(low, acc)).to_bytes())
        labels_rc = self.ot.finish_correlated(ch.recv(Kind.OT, max_payload=16 * n * acc))
        per_instance = 2 * 16 * lin.and_count + 64 * 16 + 1024
        gc = gc_from_bytes(ch.recv(Kind.GARBLED_TABLES, max_payload=n * per_instance + 4096),
                           lin, n)
        labels = {
            "x_masked": labels_from_bytes(ch.recv(Kind.LABELS, max_payload=16 * n * acc + 64),
                                          acc, n),
            "r_c": labels_rc.reshape(acc, n, 16),
            "r_u": labels_from_bytes(ch.recv(Kind.LABELS, max_payload=16 * n * w_ru + 64),
                                     w_ru, n),
        }
        out = decode(gc, evaluate(lin, gc, labels))["y_masked"]
        return [int(v) for v in out]
