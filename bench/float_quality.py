"""Float-only denoising quality of one or more models, for the model search.

    python bench/float_quality.py SPEC[=WEIGHTS.npz] ... [--sets holdout,set12,bsd68]
                                  [--backend float-approx] [--stride S] [--seed 0]

The same noisy images as bench/quality.py (its image list and seeds: image k of the full
list holdout, Set12, BSD68 gets seed + k whatever --sets says), denoised by the float
backend with the spec's own activation (float-approx: tanh* for the shipped specs) and no
fixed point, so a candidate is measured in seconds per set instead of minutes; fixed point
costs compact 0.004-0.006 dB more (docs/quality.md). `=WEIGHTS.npz` puts a weights file in
place of the spec's own `weights` clause (e.g. a candidate trained with `veil train -o`), or
the weights inside a `veil train --checkpoint` file (a run in progress: mid-schedule weights).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from veil.backends.catalog import get_backend
from veil.bench.quality import test_images
from veil.bench.trained_program import program_for
from veil.models.denoise import denoise_channels
from veil.models.noise import add_noise, psnr

ALL_SETS = ("holdout", "set12", "bsd68")


def evaluate(program, backend, images, stride=None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for group, _name, clean, noisy in images:
        den = denoise_channels(program, backend, noisy[None], stride)[0]
        out.setdefault(group, []).append(psnr(clean, np.rint(den)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+", help="SPEC or SPEC=WEIGHTS.npz")
    ap.add_argument("--sets", default=",".join(ALL_SETS))
    ap.add_argument("--backend", default="float-approx", choices=("float-approx", "float"))
    ap.add_argument("--stride", type=int)
    ap.add_argument("--sigma", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sets = args.sets.split(",")
    images = [(g, n, c, add_noise(c[None], args.sigma, args.seed + k)[0])
              for k, (g, n, c) in enumerate(test_images(list(ALL_SETS))) if g in sets]
    backend = get_backend(args.backend)
    noisy = evaluate_noisy(images)
    print("| model | " + " | ".join(sets) + " | seconds |")
    print("|---|" + "---:|" * (len(sets) + 1))
    print("| (noisy) | " + " | ".join(f"{noisy[s]:.2f}" for s in sets) + " | |", flush=True)
    for arg in args.models:
        label, program = program_for(arg)
        t = time.perf_counter()
        res = evaluate(program, backend, images, args.stride)
        print(f"| {label} | " + " | ".join(f"{np.mean(res[s]):.2f}" for s in sets)
              + f" | {time.perf_counter() - t:.0f} |", flush=True)


def evaluate_noisy(images) -> dict[str, float]:
    out: dict[str, list[float]] = {}
    for group, _name, clean, noisy in images:
        out.setdefault(group, []).append(psnr(clean, noisy))
    return {g: float(np.mean(v)) for g, v in out.items()}


if __name__ == "__main__":
    main()
