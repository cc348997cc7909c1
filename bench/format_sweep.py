"""Fixed-point design space of a spec: PSNR lost to quantisation against circuit size.

    python bench/format_sweep.py [--model compact] [--images camera,astronaut,coffee,chelsea]

For each candidate (activation fix<l,f>, weight fix<l,f>, coefficient fractional bits) the
spec is rewritten with those formats (weights file shared), compiled and run on the held-out
scikit-image pictures with sigma-25 noise; printed: mean PSNR of float tanh* and of the
plaintext fixed point, their gap, the masked tanh* circuit's AND count and the accumulator
width of layer 2 (which sets the packed slot width of the secure protocol).
"""
from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from veil.backends.catalog import get_backend
from veil.models.catalog import resolve_spec
from veil.models.catalog import compile_model
from veil.models.denoise import denoise_channels
from veil.models.noise import add_noise, psnr
from veil.models.train_images import load_skimage_gray

CANDIDATES = [  # (activation, weight, input, coefficient frac)
    ((16, 12), (16, 12), (16, 12), 14),
    ((12, 10), (14, 11), (14, 11), 10),
    ((10, 8), (13, 10), (12, 9), 9),
    ((10, 8), (12, 9), (12, 9), 9),
    ((9, 7), (12, 9), (12, 9), 8),
    ((8, 6), (12, 9), (12, 9), 7),
    ((8, 6), (11, 8), (11, 8), 7),
]


def rewrite(spec_text: str, act, weight, inp, coeff) -> str:
    def sub(kind, fmt, text):
        return re.sub(rf"^(\s*{kind}\s+)fix<\s*\d+\s*,\s*\d+\s*>", rf"\g<1>fix<{fmt[0]}, {fmt[1]}>",
                      text, flags=re.M)
    text = sub("activation", act, sub("weight", weight, sub("input", inp, spec_text)))
    frac = weight[1] + min(act[1], inp[1])
    text = sub("bias", (frac + 7, frac), text)
    return re.sub(r"^(\s*coefficient\s+frac\s+)\d+", rf"\g<1>{coeff}", text, flags=re.M)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="compact")
    ap.add_argument("--images", default="camera,astronaut,coffee,chelsea")
    args = ap.parse_args()
    src = resolve_spec(args.model)
    tests = []
    for k, name in enumerate(args.images.split(",")):
        clean = np.rint(load_skimage_gray(name))
        tests.append((clean, add_noise(clean[None], 25.0, k)))
    fl = get_backend("float-approx")
    pt = get_backend("plaintext")
    print("activation  weight     input      coeff | float tanh*  fixed   gap    | AND masked  acc2")
    with tempfile.TemporaryDirectory() as tmp:
        for f in src.parent.glob("*.npz"):
            shutil.copy(f, tmp)
        base = None
        for act, weight, inp, coeff in CANDIDATES:
            spec = Path(tmp) / src.name
            spec.write_text(rewrite(src.read_text(), act, weight, inp, coeff))
            program = compile_model(str(spec))
            if base is None:
                base = np.mean([psnr(c, np.rint(denoise_channels(program, fl, n)[0]))
                                for c, n in tests])
            fixed = np.mean([psnr(c, np.rint(denoise_channels(program, pt, n)[0]))
                             for c, n in tests])
            ands = program.activations[0].masked.counts()["AND"]
            acc2 = program.dense[1].layer.acc_bits
            print(f"fix<{act[0]},{act[1]}>  fix<{weight[0]},{weight[1]}>  fix<{inp[0]},{inp[1]}>  "
                  f"{coeff:5d} | {base:8.3f}  {fixed:8.3f}  {base - fixed:+.3f} | "
                  f"{ands:8d}  {acc2:4d}", flush=True)


if __name__ == "__main__":
    main()
