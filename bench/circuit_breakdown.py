"""Where the AND gates of an activation circuit go, per building block.

    python bench/circuit_breakdown.py [--model compact] [--layer 2] [--kappa 40]

Wraps the builder calls of compiler/synthesis.py to count the ANDs each block creates (raw,
before the optimisation passes), then prints the optimised totals for comparison.
"""
from __future__ import annotations

import argparse
import functools

from veil.compiler import synthesis as piecewise
from veil.circuits.builder import Builder
from veil.circuits.passes import optimise
from veil.models.catalog import compile_model

BLOCKS = ["sub", "add_const", "gt_const", "square", "linear_combination", "le_const", "mux", "add"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="compact")
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--kappa", type=int, default=40)
    args = ap.parse_args()
    table = compile_model(args.model).activation(args.layer).table
    counts: dict[str, int] = {}
    made = {"and": 0}
    original_and = Builder.and_

    def counting_and(self, a, b):
        made["and"] += 1
        return original_and(self, a, b)

    def counted(name, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            before = made["and"]
            out = fn(*a, **k)
            counts[name] = counts.get(name, 0) + made["and"] - before
            return out
        return wrapper

    Builder.and_ = counting_and
    saved = {name: getattr(piecewise, name) for name in BLOCKS}
    for name in BLOCKS:
        setattr(piecewise, name, counted(name, saved[name]))
    try:
        masked = piecewise.masked_activation_circuit(table, args.kappa)
        raw_masked, per_masked = made["and"], dict(counts)
        made["and"] = 0
        counts.clear()
        bare = piecewise.activation_circuit(table)
        raw_bare, per_bare = made["and"], dict(counts)
    finally:
        Builder.and_ = original_and
        for name, fn in saved.items():
            setattr(piecewise, name, fn)
    print(f"{table.name}, layer {args.layer}: accumulator {table.acc_bits} bits, "
          f"{table.out_format}, coefficients {table.coeff_frac} fractional bits, "
          f"thresholds {table.thresholds}, coefficients {table.coeffs}")
    print(f"ANDs per block (raw)      masked   bare")
    for name in BLOCKS:
        print(f"  {name:20s} {per_masked.get(name, 0):9d} {per_bare.get(name, 0):6d}")
    print(f"masked: raw {raw_masked}, optimised {optimise(masked).counts()['AND']}")
    print(f"bare:   raw {raw_bare}, optimised {optimise(bare).counts()['AND']}")


if __name__ == "__main__":
    main()
