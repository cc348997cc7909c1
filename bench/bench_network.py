"""The three parties as separate processes over loopback TLS, end to end, as a deployment
runs them: user and owner keys, `veil cloud allow-owner`, `veil cloud serve`, `veil owner
publish`, `veil user denoise` pinned to the cloud's fingerprint. Prints the wall time of each
command, the user's bytes per phase (its own summary line), what the traffic would take on a
1 Gbit/s and a 100 Mbit/s link, and whether the result equals `--backend plaintext`.

    python bench/bench_network.py --image IMAGE.png [--sigma 25 --seed 1] [--model compact]
        [--key-bits 2048] [--workers N]

IMAGE is the clean picture; the noisy one is made with `veil noise` (the docs use Set12 08).
Everything is written to a temporary folder that is removed at the end.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINKS = {"1 Gbit/s": 1e9, "100 Mbit/s": 1e8}


def veil(*args, env=None) -> tuple[str, float]:
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "veil.cli", *map(str, args)], env=env,
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"veil {' '.join(map(str, args))} failed:\n{res.stderr}")
    return res.stderr + res.stdout, time.perf_counter() - t


def serve(store: Path, env, test_keys: bool, *options) -> tuple[subprocess.Popen, str, str]:
    """`veil cloud serve` on a free port with `options` (e.g. --workers N, --dask ADDRESS);
    (the process, its address, its certificate's fingerprint)."""
    log = store.parent / "serve.log"
    extra = ["--allow-test-keys"] if test_keys else []
    with open(log, "w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "veil.cli", "cloud", "serve", "--store",
                                 store, "--port", "0", *options, *extra], env=env, stderr=f)
    for _ in range(1200):
        text = log.read_text()
        m = re.search(r"listening on (127\.0\.0\.1:\d+)", text)
        if m or proc.poll() is not None:
            break
        time.sleep(0.05)
    fp = re.search(r"fingerprint: ([0-9a-f]{64})", text)
    if not (m and fp):
        proc.kill()
        sys.exit(f"the cloud did not start:\n{text}")
    return proc, m.group(1), fp.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--image", required=True, type=Path, help="the clean picture")
    ap.add_argument("--sigma", type=float, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", default="compact")
    ap.add_argument("--key-bits", default="2048")
    ap.add_argument("--workers", default=str(os.cpu_count() or 1))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"))
        veil("noise", a.image, "-o", tmp / "noisy.png", "--sigma", a.sigma, "--seed", a.seed)
        veil("user", "keygen", "-o", tmp / "user.key", "--key-bits", a.key_bits, env=env)
        veil("owner", "keygen", "-o", tmp / "owner.key", env=env)
        veil("cloud", "allow-owner", "--store", tmp / "store", tmp / "owner.pub", env=env)
        proc, address, fingerprint = serve(tmp / "store", env, int(a.key_bits) < 2048,
                                           "--workers", a.workers)
        try:
            trust = ("--cloud", address, "--cloud-fingerprint", fingerprint)
            _, published = veil("owner", "publish", a.model, "--user-key", tmp / "user.pub",
                                "--owner-key", tmp / "owner.key", "--name", a.model, "--quiet",
                                *trust, env=env)
            line, took = veil("user", "denoise", tmp / "noisy.png", "-o", tmp / "secure.png",
                              "--key", tmp / "user.key", "--model", a.model, "--owner-pub",
                              tmp / "owner.pub", "--workers", a.workers, "--quiet", *trust,
                              env=env)
        finally:
            proc.terminate()
            proc.wait(30)
        veil("denoise", tmp / "noisy.png", "-o", tmp / "plain.png", "--model", a.model,
             "--backend", "plaintext", "--quiet")
        same = filecmp.cmp(tmp / "secure.png", tmp / "plain.png", shallow=False)
    print(f"publish: {published:.1f} s wall; user denoise: {took:.1f} s wall "
          f"({took / 60:.1f} min)")
    print(line.strip().splitlines()[-1])
    sent, received = map(float, re.search(r"sent ([\d.]+) MB, received ([\d.]+) MB",
                                          line).groups())
    total = (sent + received) * 1e6 * 8
    for name, rate in LINKS.items():
        print(f"at {name}: {total / rate / 60:.1f} min of transfer one way after the other, "
              f"{max(sent, received) * 8e6 / rate / 60:.1f} min with both ways at once")
    print(f"bit-identical to --backend plaintext: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
