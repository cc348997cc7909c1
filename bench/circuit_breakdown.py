"""Where the AND gates of an activation circuit go, per building block.

    python bench/circuit_breakdown.py [--model compact] [--layer 2] [--kappa 40]

Wraps the builder calls of compiler/synthesis.py and compiler/polynomial.py to count the
ANDs each block creates (raw, before the optimisation passes). The polynomials are built as
a circuit of their own, optimised and swept on their care set, then inlined: their parts are
listed raw, then the block as inlined. Then the optimised totals for comparison.
"""
from __future__ import annotations

import argparse
import functools

from veil.circuits import within
from veil.compiler import polynomial, synthesis
from veil.circuits.builder import Builder
from veil.circuits.passes import optimise
from veil.models.catalog import compile_model

# (module, function, label): a block's ANDs are those made while its function runs.
INSIDE = ["segment tests", "offset b = a - o_k", "square floor(b^2 / 2^f)", "higher powers",
          "selected column sum"]          # built in the polynomial block's own builder
INLINED = "polynomial block as inlined"
BLOCKS = [
    (synthesis, "sub", "x = x' - r_c"),
    (synthesis, "add_const", "magnitude rounding"),
    (synthesis, "ge_const", "saturation test"),
    (synthesis, "gt_const", "saturation test (shift 0)"),
    (polynomial, "le_const_within", "segment tests"),
    (polynomial, "add", "offset b = a - o_k"),
    (polynomial, "square", "square floor(b^2 / 2^f)"),
    (polynomial, "mul", "higher powers"),
    (polynomial, "selected_sum", "selected column sum"),
    (synthesis, "mux_const", "saturation multiplexer"),
    (synthesis, "cond_negate", "sign (bare)"),
    (synthesis, "add", "y' = (y xor s) + r_u + s"),
]


def breakdown(table, kappa: int) -> dict[str, tuple[int, int]]:
    """label -> (masked ANDs, bare ANDs), raw; plus 'total' and 'optimised'."""
    polynomial.choose_offsets(table)     # the offset search builds circuits: not counted
    made = {"and": 0}
    original_and = Builder.and_
    scratch = within.Builder             # le_const_within's trial builds: not counted

    def counting_and(self, a, b):
        made["and"] += 1
        return original_and(self, a, b)

    def counted(label, fn, counts):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            before = made["and"]
            out = fn(*a, **k)
            counts[label] = counts.get(label, 0) + made["and"] - before
            return out
        return wrapper

    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in BLOCKS]
    results = []
    Builder.and_ = counting_and
    within.Builder = type("Scratch", (Builder,), {"and_": original_and})
    try:
        for build in (lambda: synthesis.masked_activation_circuit(table, kappa),
                      lambda: synthesis.activation_circuit(table)):
            counts: dict[str, int] = {}
            for (mod, name, fn), (_, _, label) in zip(saved, BLOCKS):
                setattr(mod, name, counted(label, fn, counts))
            made["and"] = 0
            polynomial.polynomial_circuit.cache_clear()
            circuit = build()
            counts[INLINED] = polynomial.polynomial_circuit(table).counts()["AND"]
            inside = sum(counts.get(label, 0) for label in INSIDE)
            counts["total"] = made["and"] - inside + counts[INLINED]
            counts["optimised"] = optimise(circuit).counts()["AND"]
            results.append(counts)
    finally:
        Builder.and_ = original_and
        within.Builder = scratch
        polynomial.polynomial_circuit.cache_clear()
        for mod, name, fn in saved:
            setattr(mod, name, fn)
    labels = [label for *_, label in BLOCKS]
    labels.insert(labels.index(INSIDE[-1]) + 1, INLINED)
    labels += ["total", "optimised"]
    return {label: (results[0].get(label, 0), results[1].get(label, 0)) for label in labels}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="compact")
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--kappa", type=int, default=40)
    args = ap.parse_args()
    table = compile_model(args.model).activation(args.layer).table
    print(f"{table.name}, layer {args.layer}: accumulator {table.acc_bits} bits, "
          f"{table.out_format}, coefficients {table.coeff_frac} fractional bits, "
          f"thresholds {table.thresholds}, coefficients {table.coeffs}, "
          f"offsets {polynomial.choose_offsets(table)}")
    print("ANDs per block (raw; the polynomial block's parts, then the block as inlined)")
    print("                                  masked   bare")
    for label, (masked, bare) in breakdown(table, args.kappa).items():
        if masked or bare or label in ("total", "optimised"):
            print(f"  {label:30s} {masked:7d} {bare:6d}")


if __name__ == "__main__":
    main()
