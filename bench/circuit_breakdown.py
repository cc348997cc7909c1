"""Where the AND gates of an activation circuit go, per building block.

    python bench/circuit_breakdown.py [--model compact] [--layer 2] [--kappa 40]

Wraps the builder calls of compiler/synthesis.py and compiler/piecewise.py to count the
ANDs each block creates (raw, before the optimisation passes). Everything between the
accumulator's magnitude bits and y is built as a circuit of its own (the magnitude block),
optimised, simplified on all its inputs and inlined: its parts are listed raw, then the
block after optimise alone and as inlined. Then the circuit's totals.
"""
from __future__ import annotations

import argparse
import functools

from veil.circuits import within
from veil.circuits.builder import Builder
from veil.circuits.passes import optimise
from veil.compiler import piecewise, synthesis
from veil.models.catalog import compile_model

# (module, function, label): a block's ANDs are those made while its function runs.
OUTSIDE = [
    (synthesis, "sub", "x = x' - r_c"),
    (synthesis, "or_all", "saturation: m's high bits (OR)"),
]
INSIDE = [
    (synthesis, "add_const", "  magnitude rounding"),
    (synthesis, "ge_const", "  saturation comparator"),
    (synthesis, "gt_const", "  saturation comparator (shift 0)"),
    (piecewise, "le_const_within", "  segment tests"),
    (piecewise, "add", "  offset b = a - o_k"),
    (piecewise, "square", "  square floor(b^2 / 2^f)"),
    (piecewise, "mul", "  higher powers"),
    (piecewise, "selected_sum", "  selected column sum"),
    (synthesis, "mux_const", "  saturation multiplexer"),
]
AFTER = [
    (synthesis, "cond_negate", "sign (bare)"),
    (synthesis, "add_with_carry", "(y xor s) + r_lo + s, carry"),
]
BLOCKS = OUTSIDE + INSIDE + AFTER
RAW = "magnitude block, raw"
PLAIN, INLINED = "  ... after optimise", "  ... as inlined (simplified)"


MAGNITUDE = synthesis.magnitude_circuit      # the cached function, before any wrapping


def _clear() -> None:
    MAGNITUDE.cache_clear()
    piecewise.polynomial_circuit.cache_clear()


def _plain_block(table) -> int:
    """The magnitude block's ANDs after optimise, without the simplification."""
    saved, synthesis.MAX_INPUT_BITS = synthesis.MAX_INPUT_BITS, 0
    try:
        _clear()
        return MAGNITUDE(piecewise.block_key(table)).counts()["AND"]
    finally:
        synthesis.MAX_INPUT_BITS = saved
        _clear()


def breakdown(table, kappa: int) -> dict[str, tuple[int, int]]:
    """label -> (masked ANDs, bare ANDs), raw; plus 'total' and 'optimised'."""
    piecewise.choose_offsets(piecewise.block_key(table))   # the offset search: not counted
    plain = _plain_block(table)
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
    saved.append((synthesis, "magnitude_circuit", MAGNITUDE))
    results = []
    Builder.and_ = counting_and
    within.Builder = type("Scratch", (Builder,), {"and_": original_and})
    try:
        for build in (lambda: synthesis.masked_activation_circuit(table, kappa),
                      lambda: synthesis.activation_circuit(table)):
            counts: dict[str, int] = {}
            for (mod, name, fn), (_, _, label) in zip(saved, BLOCKS + [(None, None, RAW)]):
                setattr(mod, name, counted(label, fn, counts))
            made["and"] = 0
            _clear()
            circuit = build()
            counts[PLAIN] = plain
            counts[INLINED] = MAGNITUDE(piecewise.block_key(table)).counts()["AND"]
            counts["total"] = made["and"] - counts[RAW] + counts[INLINED]
            counts["optimised"] = optimise(circuit).counts()["AND"]
            results.append(counts)
            for mod, name, fn in saved:
                setattr(mod, name, fn)
    finally:
        Builder.and_ = original_and
        within.Builder = scratch
        for mod, name, fn in saved:
            setattr(mod, name, fn)
        _clear()
    labels = [label for *_, label in OUTSIDE] + [RAW] + [label for *_, label in INSIDE] + \
        [PLAIN, INLINED] + [label for *_, label in AFTER] + ["total", "optimised"]
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
          f"offsets {piecewise.choose_offsets(piecewise.block_key(table))}")
    print("ANDs per block (raw unless said)          masked   bare")
    for label, (masked, bare) in breakdown(table, args.kappa).items():
        if masked or bare or label in ("total", "optimised"):
            print(f"  {label:38s} {masked:7d} {bare:6d}")


if __name__ == "__main__":
    main()
