"""`veil denoise --backend yao` with 1 and with 2 lanes (concurrent sessions on one
provisioning) on the same picture, one after the other in this run: wall time, CPU of the
whole process tree, CPU use, the ratio of the wall times, and whether each result equals
`--backend plaintext`.

    python bench/bench_lanes.py --image IMAGE.png [--size 256] [--lanes 1,2] [--model compact]
        [--key-bits 2048] [--sigma 25 --seed 1]

The picture's top-left SIZE x SIZE crop is used (the whole picture with --size 0); the noisy
input is made with `veil noise`. Everything goes to a temporary folder removed at the end.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image


def children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def veil(*args, env=None) -> tuple[float, float]:
    """Run the CLI; its wall and CPU seconds (the process and every worker it waited for)."""
    t, cpu = time.perf_counter(), children_cpu()
    res = subprocess.run([sys.executable, "-m", "veil.cli", *map(str, args)], env=env,
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"veil {' '.join(map(str, args))} failed:\n{res.stderr}")
    return time.perf_counter() - t, children_cpu() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image", required=True, type=Path)
    ap.add_argument("--size", type=int, default=256, help="crop side (0: the whole picture)")
    ap.add_argument("--lanes", default="1,2", help="lane counts to compare, the first is the baseline")
    ap.add_argument("--model", default="compact")
    ap.add_argument("--key-bits", type=int, default=2048)
    ap.add_argument("--sigma", type=float, default=25)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    lanes = [int(v) for v in a.lanes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clean = Image.open(a.image)
        if a.size:
            clean = clean.crop((0, 0, a.size, a.size))
        clean.save(tmp / "clean.png")
        veil("noise", tmp / "clean.png", "-o", tmp / "noisy.png", "--sigma", a.sigma, "--seed", a.seed)
        veil("denoise", tmp / "noisy.png", "-o", tmp / "plain.png", "--model", a.model,
             "--backend", "plaintext", "--quiet")
        print(f"{a.model} on a {clean.width}x{clean.height} crop of {a.image.name}, "
              f"{a.key_bits}-bit keys, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} "
              f"at the start")
        print(f"{'lanes':>5} {'wall s':>8} {'CPU s':>8} {'CPU use':>8} {'wall ratio':>10}  equal")
        base = None
        for n in lanes:
            out = tmp / f"yao{n}.png"
            env = dict(os.environ, VEIL_LANES=str(n))
            wall, cpu = veil("denoise", tmp / "noisy.png", "-o", out, "--model", a.model,
                             "--backend", "yao", "--key-bits", a.key_bits, "--quiet", env=env)
            base = base or wall
            same = filecmp.cmp(out, tmp / "plain.png", shallow=False)
            print(f"{n:>5} {wall:>8.1f} {cpu:>8.1f} {cpu / wall:>7.0%} {wall / base:>10.2f}  {same}",
                  flush=True)


if __name__ == "__main__":
    main()
