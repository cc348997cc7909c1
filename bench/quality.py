"""Denoising quality: PSNR of noisy, BM3D, float (tanh), float tanh*, plaintext fixed point.

    python bench/quality.py [--model compact|SPEC[=WEIGHTS.npz]] [--sets holdout,set12,bsd68] [--sigma 25]
                            [--seed 0] [--stride S] [--no-bm3d] [--markdown FILE]

Test images: the scikit-image pictures held out from training (camera, astronaut, coffee,
chelsea; as grayscale) and, when ../shared/data is present, Set12 and BSD68. Every method
sees the same noisy image (sigma 25, rounded and clipped, seeded per image). BM3D is the
`bm3d` package, run in this same process with the true sigma.
"""
from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from veil.backends.catalog import get_backend
from veil.bench.trained_program import program_for
from veil.models.catalog import compile_model
from veil.models.denoise import denoise_channels
from veil.models.images import read_image
from veil.models.noise import add_noise, psnr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
METHODS = ("noisy", "bm3d", "float", "float-approx", "plaintext")


def test_images(sets: list[str]) -> list[tuple[str, str, np.ndarray]]:
    out = []
    if "holdout" in sets:
        from veil.models.train_images import HOLDOUT, load_skimage_gray
        out += [("holdout", n, np.rint(load_skimage_gray(n))) for n in HOLDOUT]
    for name in ("set12", "bsd68"):
        if name in sets:
            folder = SHARED / name
            if not folder.is_dir():
                raise SystemExit(f"{folder} not found")
            out += [(name, p.stem, read_image(p).channels[0]) for p in sorted(folder.glob("*.png"))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="compact")
    ap.add_argument("--sets", default="holdout,set12,bsd68")
    ap.add_argument("--sigma", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stride", type=int)
    ap.add_argument("--no-bm3d", action="store_true")
    ap.add_argument("--markdown", help="Write the per-image table to this file.")
    args = ap.parse_args()
    program = program_for(args.model)[1] if "=" in args.model else compile_model(args.model)
    backends = {m: get_backend(m) for m in ("float", "float-approx", "plaintext")}
    methods = [m for m in METHODS if not (m == "bm3d" and args.no_bm3d)]
    rows, t_method = [], {m: 0.0 for m in methods}
    for k, (group, name, clean) in enumerate(test_images(args.sets.split(","))):
        noisy = add_noise(clean[None], args.sigma, args.seed + k)[0]
        row = {"set": group, "image": name, "size": f"{clean.shape[1]}x{clean.shape[0]}"}
        for m in methods:
            t = time.perf_counter()
            if m == "noisy":
                out = noisy
            elif m == "bm3d":
                import bm3d
                out = np.clip(bm3d.bm3d(noisy / 255.0, args.sigma / 255.0) * 255.0, 0, 255)
            else:
                out = denoise_channels(program, backends[m], noisy[None], args.stride)[0]
            t_method[m] += time.perf_counter() - t
            row[m] = psnr(clean, np.rint(out))
        rows.append(row)
        print(f"{group:8s} {name:12s} " + " ".join(f"{m} {row[m]:6.2f}" for m in methods),
              flush=True)
    lines = [f"model {program.model.name}, sigma {args.sigma:g}, stride "
             f"{args.stride or program.model.geometry.stride}, seed {args.seed}; "
             f"{platform.machine()}, Python {platform.python_version()}", "",
             "| set | image | size | " + " | ".join(methods) + " |",
             "|---|---|---|" + "---|" * len(methods)]
    for r in rows:
        lines.append(f"| {r['set']} | {r['image']} | {r['size']} | "
                     + " | ".join(f"{r[m]:.2f}" for m in methods) + " |")
    lines += ["", "| set | images | " + " | ".join(methods)
              + " | float - plaintext | float-approx - plaintext |",
              "|---|---|" + "---|" * (len(methods) + 2)]
    for group in dict.fromkeys(r["set"] for r in rows):
        sel = [r for r in rows if r["set"] == group]
        means = {m: np.mean([r[m] for r in sel]) for m in methods}
        lines.append(f"| {group} | {len(sel)} | " + " | ".join(f"{means[m]:.2f}" for m in methods)
                     + f" | {means['float'] - means['plaintext']:+.3f}"
                     + f" | {means['float-approx'] - means['plaintext']:+.3f} |")
    lines += ["", "seconds in total per method: "
              + ", ".join(f"{m} {t_method[m]:.1f}" for m in methods if m != "noisy")]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
