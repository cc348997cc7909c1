"""The `packed` lowering's costs on compact, layer by layer (a thin front end to
bench/measure.py and bench/report.py).

    python bench/bench_packed.py [--model compact] [--key-bits 2048] [--patches 2] [--sample 32]

Every step of packed_linear.py and the garbled activation on each dense layer, for a batch of
patches: provisioning (timed on a sample of columns, extrapolated), offline and online per
patch, per MAC and per activation, next to the `paper` lowering's unit costs measured on the
same layers and the seed paper's. CPU time of one party at a time. `veil bench` is the same
with the seed paper's burger architecture too. Prints only.
"""
from __future__ import annotations

import argparse
import os
import warnings

from veil.backends.yao import paillier as P
from veil.bench.measure import measure_model
from veil.bench.report import report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="compact")
    ap.add_argument("--key-bits", dest="bits", type=int, default=2048)
    ap.add_argument("--patches", type=int, default=2)
    ap.add_argument("--sample", type=int, default=32, help="columns, products and activations "
                    "timed per layer where a figure is extrapolated")
    a = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        m = measure_model(a.model, a.bits, a.patches, a.sample)
    print(report([m], os.cpu_count() or 1), end="")


if __name__ == "__main__":
    main()
