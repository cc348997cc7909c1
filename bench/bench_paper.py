"""The `paper` lowering's unit costs, next to the seed paper's prototype.

    python bench/bench_paper.py [--bits 2048] [--products 200] [--activations 2048]

Per encrypted multiplication (Erkin et al.), user side and cloud side, and per secure tanh*
(the activation of compact's layer 2, masked circuit with kappa = 40), user side and cloud side:
CPU seconds of each party's thread (time.thread_time), both parties in this process.
The activation includes the Paillier masking and unmasking around the garbled circuit and
the OT extension for the cloud's mask bits; the one-off base OTs are reported apart.
"""
from __future__ import annotations

import argparse
import os
import platform
import threading
import time
import warnings

import gmpy2
import numpy as np

from veil.backends.yao import paillier as P
from veil.backends.yao.channel import InProcessChannel, Kind
from veil.backends.yao.garbled_activation import (ActivationEvaluator, ActivationGarbler,
                                                  uniform_mask)
from veil.backends.yao.ot_extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot_messages import BaseOTStart
from veil.backends.yao.paper_linear import cloud_mask, cloud_unmask, user_multiply
from veil.compiler.driver import compile_spec, security_for

SEED = {"product_user": 56.85, "product_cloud": 68.8, "act_user": 230.09, "act_cloud": 237.41}


def timed_pair(user_fn, cloud_fn) -> tuple[float, float]:
    """Run both parties in threads; CPU seconds each."""
    out = {}

    def wrap(name, fn):
        t = time.thread_time()
        fn()
        out[name] = time.thread_time() - t
    threads = [threading.Thread(target=wrap, args=("user", user_fn)),
               threading.Thread(target=wrap, args=("cloud", cloud_fn))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out["user"], out["cloud"]


def bench_products(pk, sk, k: int) -> tuple[float, float]:
    enc_w = P.encrypt_signed(pk, [i % 512 - 256 for i in range(k)])
    enc_y = P.encrypt_signed(pk, [i % 256 for i in range(k)])
    noise = P.CrtNoise(sk)
    t = time.thread_time()
    request, masks = cloud_mask(pk, enc_w, enc_y)
    t_cloud = time.thread_time() - t
    t = time.thread_time()
    replies = user_multiply(sk, request, noise)
    t_user = time.thread_time() - t
    t = time.thread_time()
    cloud_unmask(pk, replies, enc_w, enc_y, masks)
    t_cloud += time.thread_time() - t
    return t_user / k, t_cloud / k


def bench_activation(program, pk, sk, n: int):
    stage = program.activation(2)
    kappa = program.security.kappa
    sid = os.urandom(16)
    u_ch, c_ch = InProcessChannel.pair()
    ot_s, ot_r = OTExtSender(sid), OTExtReceiver(sid)
    base = {}

    def base_user():
        u_ch.send(Kind.OT, ot_s.setup(BaseOTStart.from_bytes(u_ch.recv(Kind.OT))).to_bytes())

    def base_cloud():
        c_ch.send(Kind.OT, ot_r.setup().to_bytes())
        ot_r.finish_setup(c_ch.recv(Kind.OT))
    base["user"], base["cloud"] = timed_pair(base_user, base_cloud)
    sent_before = u_ch.bytes_sent, c_ch.bytes_sent
    garbler, evaluator = ActivationGarbler(ot_s, kappa), ActivationEvaluator(ot_r, kappa)
    noise = P.CrtNoise(sk)
    xs = [((i * 7919) % 4001 - 2000) << 8 for i in range(n)]
    enc_x = P.encrypt_signed(pk, xs)
    acc_bits = stage.table.acc_bits
    box = {}

    def user():
        box["masked_ready"].wait()
        masked = box["masked"]
        x_masked = P.decrypt(sk, masked)
        r_u = garbler.run(u_ch, stage, x_masked)
        box["enc_ru"] = P.encrypt(pk, r_u, noise)
        box["ru_ready"].set()

    def cloud():
        n2 = pk.nsquare
        r_c = [uniform_mask(acc_bits, kappa) for _ in enc_x]
        box["masked"] = P.rerandomise_all(pk, [c * (1 + r * pk.n) % n2 for c, r in zip(enc_x, r_c)])
        box["masked_ready"].set()
        y = evaluator.run(c_ch, stage, r_c)
        box["ru_ready"].wait()
        box["enc_t"] = [(1 + v * pk.n) * gmpy2.invert(c, n2) % n2 for v, c in zip(y, box["enc_ru"])]

    box["masked_ready"], box["ru_ready"] = threading.Event(), threading.Event()
    t_user, t_cloud = timed_pair(user, cloud)
    want = stage.table.reference(np.array(xs))
    assert P.decrypt_signed(sk, box["enc_t"]) == [int(v) for v in want], "activation mismatch"
    return (t_user / n, t_cloud / n, base, (u_ch.bytes_sent - sent_before[0]) / n,
            (c_ch.bytes_sent - sent_before[1]) / n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bits", type=int, default=2048)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--activations", type=int, default=2048)
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(args.bits)
    program = compile_spec("compact", "paper", security_for(args.bits))
    print(f"{platform.machine()}, Python {platform.python_version()}, load "
          f"{os.getloadavg()[0]:.2f}; Paillier {args.bits} bits, kappa {program.security.kappa}")
    pu, pc = bench_products(pk, sk, args.products)
    au, ac, base, up, down = bench_activation(program, pk, sk, args.activations)
    rows = [("encrypted multiplication, user", pu, SEED["product_user"]),
            ("encrypted multiplication, cloud", pc, SEED["product_cloud"]),
            ("secure tanh*, user", au, SEED["act_user"]),
            ("secure tanh*, cloud", ac, SEED["act_cloud"])]
    print(f"{'':34s} {'Veil ms':>10s} {'seed ms':>9s} {'speed-up':>9s}")
    for name, ours, seed in rows:
        print(f"{name:34s} {ours * 1e3:10.3f} {seed:9.2f} {seed / (ours * 1e3):8.0f}x")
    print(f"tanh* batch of {args.activations}: user->cloud {up:.0f} B and cloud->user {down:.0f} B "
          f"per activation; base OTs once per session: user {base['user']:.2f} s, "
          f"cloud {base['cloud']:.2f} s")


if __name__ == "__main__":
    main()
