"""Timing helpers for `veil bench`, the `paper` lowering's unit costs and the seed paper's
constants (bench/measure.py measures the `packed` lowering with these; bench/report.py
prints the figures).

All figures are CPU seconds of one party: inline steps by time.process_time (`clock`: one
party at a time, multi-exponentiations in this process), garbling and OT by time.thread_time
with the two parties as threads (`timed_pair`). `paper_products` and `paper_activation` time
the `paper` lowering's Erkin products and garbled tanh* per unit, on real ciphertexts, each
checked against the plaintext reference. SEED_MS etc. are the seed paper's published figures.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.garbled_activation import ActivationEvaluator, ActivationGarbler
from veil.backends.yao.lowerings.paper.activation_masks import (cloud_activation_output,
                                                                 cloud_mask_accumulators,
                                                                 user_masked_accumulators)
from veil.backends.yao.lowerings.paper.linear import (accumulate, cloud_mask, cloud_unmask,
                                                      user_multiply)
from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot.messages import BaseOTStart
from veil.bench.costs import UnitCost
from veil.compiler.program import ActivationStage

# -- the seed paper's constants ---------------------------------------------------------------
SEED_MS = {"product_user": 56.85, "product_cloud": 68.8, "act_user": 230.09, "act_cloud": 237.41}
SEED_PATCH_HOURS = 10.0        # the seed paper's "tens of hours" per patch, at its least
SEED_LAYERS = ((1521, 3072), (3072, 3072), (3072, 2559), (2559, 2047), (2047, 289))   # (in, out)


# -- clocks and the two-thread runs -----------------------------------------------------------
def clock(fn: Callable):
    """(result, CPU seconds of this process) for an inline step."""
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def timed_pair(fa: Callable, fb: Callable, channels: tuple = ()) -> tuple[float, float]:
    """Run two parties as threads; CPU seconds of each thread. The first failure is
    re-raised; it closes `channels` first, so the other party stops waiting at once."""
    out: dict[int, float] = {}
    errors: list[BaseException] = []

    def wrap(i: int, fn: Callable) -> None:
        t = time.thread_time()
        try:
            fn()
        except BaseException as exc:       # noqa: BLE001 - re-raised below
            errors.append(exc)
            for ch in channels:
                ch.close()
        out[i] = time.thread_time() - t
    threads = [threading.Thread(target=wrap, args=a, daemon=True) for a in ((0, fa), (1, fb))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out[0], out[1]


@dataclass
class GcSession:
    """A garbler and an evaluator with their base OTs done (CPU seconds of that setup)."""
    garbler: ActivationGarbler
    evaluator: ActivationEvaluator
    g_ch: InProcessChannel
    e_ch: InProcessChannel
    base_garbler: float
    base_evaluator: float


def gc_session(kappa: int) -> GcSession:
    sid = os.urandom(16)
    g_ch, e_ch = InProcessChannel.pair(timeout=300.0)
    sender, receiver = OTExtSender(sid), OTExtReceiver(sid)

    def garbler() -> None:
        g_ch.send(Kind.OT, sender.setup(BaseOTStart.from_bytes(g_ch.recv(Kind.OT))).to_bytes())

    def evaluator() -> None:
        e_ch.send(Kind.OT, receiver.setup().to_bytes())
        receiver.finish_setup(e_ch.recv(Kind.OT))
    tg, te = timed_pair(garbler, evaluator, (g_ch, e_ch))
    return GcSession(ActivationGarbler(sender, kappa), ActivationEvaluator(receiver, kappa),
                     g_ch, e_ch, tg, te)


# -- the `paper` lowering's unit costs --------------------------------------------------------
def paper_products(pk: P.PublicKey, sk: P.PrivateKey, w: list[int], y: list[int]) -> UnitCost:
    """Erkin products Enc(w_i y_i) as PaperCloud and PaperUser run them, plus the cloud's
    accumulation (one multiplication mod n^2 per product: the sample as one row over a zero
    bias); inputs encrypted untimed."""
    noise = P.CrtNoise(sk)
    enc_w, enc_y = P.encrypt_signed(pk, w, noise), P.encrypt_signed(pk, y, noise)
    zero_bias = P.encrypt_signed(pk, [0], noise)
    (request, masks), c1 = clock(lambda: cloud_mask(pk, enc_w, enc_y))
    replies, tu = clock(lambda: user_multiply(sk, request, noise))
    prods, c2 = clock(lambda: cloud_unmask(pk, replies, enc_w, enc_y, masks))
    row, c3 = clock(lambda: accumulate(pk, prods, zero_bias, len(prods)))
    want = [a * b for a, b in zip(w, y)]
    if P.decrypt_signed(sk, prods) != want or P.decrypt_signed(sk, row) != [sum(want)]:
        raise AssertionError("paper products differ from the plaintext products")
    return UnitCost(tu / len(w), (c1 + c2 + c3) / len(w))


def paper_activation(pk: P.PublicKey, sk: P.PrivateKey, gs: GcSession, stage: ActivationStage,
                     xs: list[int]) -> UnitCost:
    """One garbled tanh* per accumulator as PaperCloud and PaperUser run it (paper/
    activation_masks.py): the cloud masks Enc(x), the user decrypts and garbles (gs.garbler
    is the user's), the cloud evaluates and unmasks."""
    noise, kappa, acc_bits = P.CrtNoise(sk), gs.garbler.kappa, stage.table.acc_bits
    enc_x = P.encrypt_signed(pk, xs, noise)
    before = gs.g_ch.bytes_sent, gs.e_ch.bytes_sent
    box: dict = {"masked": threading.Event(), "ru": threading.Event()}

    def user() -> None:
        if not box["masked"].wait(300):
            raise TimeoutError("the cloud never masked its accumulators")
        x_masked = user_masked_accumulators(sk, box["cts"], acc_bits, kappa)
        r_u = gs.garbler.run(gs.g_ch, stage, x_masked)
        box["enc_ru"] = P.encrypt(pk, r_u, noise)
        box["ru"].set()

    def cloud() -> None:
        box["cts"], r_c = cloud_mask_accumulators(pk, enc_x, acc_bits, kappa)
        box["masked"].set()
        y = gs.evaluator.run(gs.e_ch, stage, r_c)
        if not box["ru"].wait(300):
            raise TimeoutError("the user never sent Enc(r_u)")
        box["enc_t"] = cloud_activation_output(pk, y, box["enc_ru"])
    tu, tc = timed_pair(user, cloud, (gs.g_ch, gs.e_ch))
    if P.decrypt_signed(sk, box["enc_t"]) != [int(v) for v in stage.table.reference(np.array(xs))]:
        raise AssertionError("paper activation differs from the plaintext reference")
    n = len(xs)
    return UnitCost(tu / n, tc / n, (gs.g_ch.bytes_sent - before[0]) / n,
                    (gs.e_ch.bytes_sent - before[1]) / n)
