"""Two users on one cloud whose heavy work runs on a Dask cluster: does a large job starve a
small one? A LocalCluster of this machine, `veil cloud serve --dask` on it, two users with a
model each; the small job alone, then the large job and, once it is under way, the same
small job beside it. Prints both small-job times and their ratio, the large job's time, and
whether every output equals `--backend plaintext`.

    python bench/bench_fairness.py [--model compact] [--key-bits 2048] [--large 128]
        [--small 32] [--workers 2]

With fair sharing the small job beside the large one takes a few times its time alone (the
two share the workers step by step); starved, it would wait for the large job to finish.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from veil.bench.bench_network import serve, veil


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _patches(model: str, side: int) -> int:
    from veil.models.catalog import compile_model
    from veil.models.denoise import count_patches
    return count_patches(compile_model(model, "packed", key_bits=2048), (side, side), 1, None)


def main() -> None:
    from distributed import LocalCluster
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="compact")
    ap.add_argument("--key-bits", default="2048")
    ap.add_argument("--large", type=int, default=128, help="side of the large job's image")
    ap.add_argument("--small", type=int, default=32, help="side of the small job's image")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (one thread each)")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                         dashboard_address=None, host="127.0.0.1") as cluster:
        tmp = Path(tmp)
        env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"), PYTHONWARNINGS="ignore")
        for name, side in (("large", a.large), ("small", a.small)):
            img = (128 + 40 * rng.standard_normal((side, side))).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(tmp / f"{name}.png")
            veil("denoise", tmp / f"{name}.png", "-o", tmp / f"{name}-plain.png", "--model",
                 a.model, "--backend", "plaintext", "--quiet")
        veil("owner", "keygen", "-o", tmp / "owner.key", env=env)
        veil("cloud", "allow-owner", "--store", tmp / "store", tmp / "owner.pub", env=env)
        for user in ("big", "small"):
            veil("user", "keygen", "-o", tmp / f"{user}.key", "--key-bits", a.key_bits, env=env)
        proc, address, fingerprint = serve(tmp / "store", env, int(a.key_bits) < 2048,
                                           "--dask", cluster.scheduler_address)
        trust = ("--cloud", address, "--cloud-fingerprint", fingerprint)
        try:
            for user in ("big", "small"):
                veil("owner", "publish", a.model, "--user-key", tmp / f"{user}.pub",
                     "--owner-key", tmp / "owner.key", "--name", f"{a.model}-{user}", "--quiet",
                     *trust, env=env)

            def job(user: str, image: str, out: str) -> float:
                return veil("user", "denoise", tmp / f"{image}.png", "-o", tmp / out, "--key",
                            tmp / f"{user}.key", "--model", f"{a.model}-{user}", "--workers",
                            "1", "--quiet", *trust, env=env)[1]

            alone = job("small", "small", "small-alone.png")
            took: dict[str, float] = {}
            big = threading.Thread(target=lambda: took.update(big=job("big", "large",
                                                                      "large.png")))
            big.start()
            time.sleep(min(30.0, 3 * alone))          # the large job past its set-up
            beside = job("small", "small", "small-beside.png")
            big_running = big.is_alive()
            big.join()
            serving_cpu = _cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
        same = all(filecmp.cmp(tmp / out, tmp / ref, shallow=False) for out, ref in (
            ("small-alone.png", "small-plain.png"), ("small-beside.png", "small-plain.png"),
            ("large.png", "large-plain.png")))
    print(f"{a.model}, {a.key_bits}-bit keys, {a.workers} Dask workers on {os.cpu_count()} "
          f"cores; small job {a.small}x{a.small}, large job {a.large}x{a.large}")
    print(f"small job alone: {alone:.1f} s; beside the large job: {beside:.1f} s "
          f"({beside / alone:.1f}x); the large job: {took['big']:.1f} s, still running when "
          f"the small one ended: {big_running}")
    patches = sum(_patches(a.model, side) for side in (a.small, a.small, a.large))
    print(f"the cloud's serving process: {serving_cpu:.1f} s of CPU for {patches} patches "
          f"({serving_cpu / patches * 1e3:.0f} ms per patch, its two provisionings included)")
    print(f"every output equal to --backend plaintext: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
