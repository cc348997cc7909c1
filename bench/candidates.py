"""Candidate denoiser shapes for the model search, and their secure cost per output pixel.

    python bench/candidates.py SHAPE... [--write DIR]

SHAPE is `input-hidden...-output[/stride]`, e.g. `24-512-512-12` (stride = output side by
default) or `16-256-256-8/8`. For each shape this prints the multiply-accumulates and the
garbled AND gates (masked activation circuits, `veil compile --emit stats`) per output pixel,
absolute and relative to the shipped compact model; --write DIR also writes each spec (seeded
random weights; train it with `veil train DIR/NAME.veil -o WEIGHTS.npz`). The specs copy
compact's normalisation, fixed-point formats and activation.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

from veil.compiler.emit import stats as emit_stats
from veil.models.catalog import compile_model, resolve_spec

ACTIVATION = "tanh_star"


def parse_shape(shape: str) -> tuple[int, tuple[int, ...], int, int]:
    m = re.fullmatch(r"(\d+(?:-\d+)+)(?:/(\d+))?", shape)
    if not m or len(m.group(1).split("-")) < 3:
        raise SystemExit(f"bad shape '{shape}': want input-hidden...-output[/stride]")
    sizes = [int(s) for s in m.group(1).split("-")]
    out = sizes[-1]
    return sizes[0], tuple(sizes[1:-1]), out, int(m.group(2) or out)


def spec_name(shape: str) -> str:
    return "c" + shape.replace("-", "_").replace("/", "_s")


def spec_text(shape: str, activation: str = ACTIVATION) -> str:
    n_in, hidden, n_out, stride = parse_shape(shape)
    compact = resolve_spec("compact").read_text()
    header = compact[compact.index("    input "):compact.index("    weights")]
    widths = [n_in * n_in, *hidden]
    dense = "".join(f"    dense {a} -> {b} {activation}\n" for a, b in zip(widths, widths[1:]))
    return (f"model {spec_name(shape)} {{\n    patch {n_in} -> {n_out} stride {stride}\n"
            f"    predict residual\n    normalise p -> (p / 255 - 0.5) / 0.2\n{header}"
            f"    weights random seed 1\n{dense}    dense {widths[-1]} -> {n_out * n_out}\n}}\n")


def cost_per_pixel(spec: str) -> tuple[float, float]:
    """(MACs, garbled ANDs) per output pixel at the spec's stride."""
    stats = emit_stats(compile_model(spec))
    ands = sum(L["activation"]["masked"]["and"] * L["activation"]["neurons"]
               for L in stats["layers"] if L.get("activation"))
    area = stats["patch"]["stride"] ** 2
    return stats["macs_per_patch"] / area, ands / area


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("shapes", nargs="+")
    ap.add_argument("--write", type=Path, help="Folder to write the candidate specs into.")
    args = ap.parse_args()
    base_macs, base_ands = cost_per_pixel("compact")
    print(f"{'shape':24s} {'MACs/px':>8s} {'x':>5s} {'ANDs/px':>8s} {'x':>5s}")
    print(f"{'compact 16-256-256-8':24s} {base_macs:8.0f} {1:5.2f} {base_ands:8.0f} {1:5.2f}")
    for shape in args.shapes:
        text = spec_text(shape)
        macs, ands = cost_per_pixel(text)
        ok = "" if macs <= 2 * base_macs and ands <= 2 * base_ands else "  over budget"
        print(f"{shape:24s} {macs:8.0f} {macs / base_macs:5.2f} {ands:8.0f} "
              f"{ands / base_ands:5.2f}{ok}")
        if args.write:
            args.write.mkdir(parents=True, exist_ok=True)
            (args.write / f"{spec_name(shape)}.veil").write_text(text)


if __name__ == "__main__":
    main()
