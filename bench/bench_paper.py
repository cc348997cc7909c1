"""The `paper` lowering's unit costs, next to the seed paper's prototype.

    python bench/bench_paper.py [--key-bits 2048] [--products 200] [--activations 2048]

Per encrypted multiplication (Erkin et al., plus the cloud's accumulation), user side and
cloud side, and per secure tanh* (the activation of compact's layer 2, masked circuit with
kappa = 40), user side and cloud side: CPU seconds of each party (bench/timing.py: inline steps
by time.process_time, the activation with both parties as threads by time.thread_time).
The activation includes the Paillier masking and unmasking around the garbled circuit and
the OT extension for the cloud's mask bits; the one-off base OTs are reported apart.
`veil bench` runs the same measurements on every layer of a model, next to `packed`.
"""
from __future__ import annotations

import argparse
import os
import platform
import warnings

from veil.backends.yao import paillier as P
from veil.bench.timing import SEED_MS, gc_session, paper_activation, paper_products
from veil.models.catalog import compile_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--key-bits", dest="bits", type=int, default=2048)
    ap.add_argument("--products", type=int, default=200)
    ap.add_argument("--activations", type=int, default=2048)
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(args.bits)
    program = compile_model("compact", "paper", key_bits=args.bits)
    print(f"{platform.machine()}, Python {platform.python_version()}, load "
          f"{os.getloadavg()[0]:.2f}; Paillier {args.bits} bits, kappa {program.security.kappa}")
    k = args.products
    prod = paper_products(pk, sk, [i % 512 - 256 for i in range(k)], [i % 256 for i in range(k)])
    gs = gc_session(program.security.kappa)             # the user garbles in `paper`
    xs = [((i * 7919) % 4001 - 2000) << 8 for i in range(args.activations)]
    act = paper_activation(pk, sk, gs, program.activation(2), xs)
    rows = [("encrypted multiplication, user", prod.user, SEED_MS["product_user"]),
            ("encrypted multiplication, cloud", prod.cloud, SEED_MS["product_cloud"]),
            ("secure tanh*, user", act.user, SEED_MS["act_user"]),
            ("secure tanh*, cloud", act.cloud, SEED_MS["act_cloud"])]
    print(f"{'':34s} {'Veil ms':>10s} {'seed ms':>9s} {'speed-up':>9s}")
    for name, ours, seed in rows:
        print(f"{name:34s} {ours * 1e3:10.3f} {seed:9.2f} {seed / (ours * 1e3):8.0f}x")
    print(f"tanh* batch of {args.activations}: user->cloud {act.up:.0f} B and cloud->user "
          f"{act.down:.0f} B per activation; base OTs once per session: user "
          f"{gs.base_garbler:.2f} s, cloud {gs.base_evaluator:.2f} s")


if __name__ == "__main__":
    main()
