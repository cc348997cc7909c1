"""Oblivious-transfer layer: base OTs and IKNP correlated-OT throughput, on one core.

    python bench/bench_ot.py [--repeat 5] [--sizes 100000,1000000]

Prints the time of the 128 base OTs (per party), correlated-OT throughput (both parties in
one process, one core, messages serialised to bytes as on a channel), bytes per OT each way,
and where the extension's time goes (AES / transposition / other, from cProfile). The
machine may be shared, so every figure is the best of --repeat runs and the load is printed.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import secrets
import subprocess
import time

import numpy as np

from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot.run import Traffic, correlated_batch, setup_pair


def load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def base_ot(repeat: int) -> None:
    best = {"C start": 1e9, "U respond": 1e9, "C finish": 1e9, "total": 1e9}
    for _ in range(repeat):
        recv, send = OTExtReceiver(b"bench"), OTExtSender(b"bench")
        t0 = time.perf_counter()
        start = recv.setup().to_bytes()
        t1 = time.perf_counter()
        reply = send.setup(start).to_bytes()
        t2 = time.perf_counter()
        recv.finish_setup(reply)
        t3 = time.perf_counter()
        for k, v in (("C start", t1 - t0), ("U respond", t2 - t1), ("C finish", t3 - t2),
                     ("total", t3 - t0)):
            best[k] = min(best[k], v)
    print(f"128 base OTs (Chou-Orlandi, ffdhe2048), best of {repeat}: " +
          ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in best.items()))
    print(f"  base-OT bytes: C->U {len(reply)}, U->C {len(start)}")


def extension(n: int, repeat: int) -> None:
    send, recv = setup_pair(b"bench-ext")
    delta = secrets.token_bytes(16)
    c = np.frombuffer(secrets.token_bytes(n), np.uint8) & 1
    best = {"total": 1e9, "C extend": 1e9, "U correlated": 1e9, "C finish": 1e9}
    traffic = Traffic()
    for i in range(repeat):
        t0 = time.perf_counter()
        req = recv.extend(c).to_bytes()
        t1 = time.perf_counter()
        _, corr = send.correlated(req, delta, n)
        corr_bytes = corr.to_bytes()
        t2 = time.perf_counter()
        recv.finish_correlated(corr_bytes)
        t3 = time.perf_counter()
        if i == 0:
            traffic.to_sender, traffic.to_receiver = len(req), len(corr_bytes)
        for k, v in (("total", t3 - t0), ("C extend", t1 - t0), ("U correlated", t2 - t1),
                     ("C finish", t3 - t2)):
            best[k] = min(best[k], v)
    print(f"{n:>9,} correlated OTs, best of {repeat}: {best['total'] * 1e3:.0f} ms = "
          f"{n / best['total'] / 1e6:.2f} M OT/s (both parties on one core); per party: "
          + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in best.items() if k != "total"))
    print(f"  bytes per OT: C->U {traffic.to_sender / n:.3f}, U->C {traffic.to_receiver / n:.3f}"
          f"  (base OTs once per session: C->U 32768, U->C 256)")
    shares(send, recv, delta, c, repeat)


def shares(send: OTExtSender, recv: OTExtReceiver, delta: bytes, c: np.ndarray,
           repeat: int) -> None:
    """Where the time goes, from the fastest of `repeat` profiled runs (cProfile sees a few
    thousand calls per run, chunk-sized, so its overhead is small)."""
    best: tuple[float, dict[str, float]] = (1e9, {})
    for _ in range(repeat):
        prof = cProfile.Profile()
        prof.runcall(correlated_batch, send, recv, delta, c)
        stats = pstats.Stats(prof).stats        # (file, line, name) -> (cc, nc, tt, ct, callers)
        total = max(ct for (_, _, _, ct, _) in stats.values())
        parts = {"AES": 0.0, "transposition": 0.0, "PRG total": 0.0, "hash total": 0.0}
        for (file, _, name), (_, _, tt, ct, _) in stats.items():
            if "update_into" in name:
                parts["AES"] += tt
            if file.endswith("ot_transpose.py") and name == "transpose_bits":
                parts["transposition"] += ct
            if file.endswith("ot_prg.py") and name == "next":
                parts["PRG total"] += ct
            if file.endswith("ot_hash.py") and name == "hash":
                parts["hash total"] += ct
        parts["other"] = total - parts["AES"] - parts["transposition"]
        best = min(best, (total, parts), key=lambda b: b[0])
    total, parts = best
    print(f"  time shares (fastest of {repeat} profiled runs, {total * 1e3:.0f} ms): AES "
          f"{parts['AES'] / total:.0%} (CTR for the PRG + ECB for the hash), transposition "
          f"{parts['transposition'] / total:.0%}, other {parts['other'] / total:.0%} (XORs, "
          f"tweaks, copies, serialisation); whole PRG {parts['PRG total'] / total:.0%}, "
          f"whole hash {parts['hash total'] / total:.0%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="100000,1000000")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}; the OT code is "
          f"single-threaded (numpy element-wise ops, OpenSSL AES), so one core")
    print(f"load before: {load()}")
    base_ot(args.repeat)
    for n in (int(float(s)) for s in args.sizes.split(",")):
        extension(n, args.repeat)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
