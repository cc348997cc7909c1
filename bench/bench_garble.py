"""Garbled-circuit throughput on the masked tanh* circuit, against raw AES in the same run.

    python bench/bench_garble.py [--model tiny] [--n 20000] [--repeat 5] [--sweep] [--profile]

Prints AND gates per second for garbling and evaluating a batch of n instances (wall clock and
process CPU time, best of --repeat), the fixed-key AES rate of the `cryptography` ECB encryptor,
the AES lower bound (8 blocks per AND garbled, 4 per AND evaluated) and how far above it we
are, bytes per AND on the wire and memory per instance. --sweep tries block sizes and AND
budgets; --profile prints cProfile's top functions. One core; other jobs on the machine add
noise (the load average is printed): compare CPU-time figures, best of several runs.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import os
import platform
import pstats
import time

import cryptography
import numpy as np

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc import plan as gc_plan
from veil.backends.yao.gc.hash import FixedKeyAES
from veil.backends.yao.gc.scratch import scratch_for
from veil.backends.yao.gc.wire import gc_to_bytes
from veil.models.catalog import compile_model


def aes_rate(blocks: int = 1 << 16, seconds: float = 0.5) -> float:
    """Blocks per second of one update_into call over `blocks` blocks, best of several."""
    aes = FixedKeyAES()
    src = np.frombuffer(os.urandom(16 * blocks), np.uint8)
    dst = np.empty(16 * blocks + 16, np.uint8)
    best, end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        aes.update_into(src, dst)
        best = min(best, time.perf_counter() - t)
    return blocks / best


def timed(fn, repeat: int):
    """(best wall seconds, best CPU seconds, last result)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu, result


def run(lin, n: int, repeat: int):
    """Garble and evaluate n instances `repeat` times; returns timings and the last gc."""
    G.garble(lin, n, 0)  # warm up: scratch buffers and bound steps for this block size
    tg, cg, (gc, sec) = timed(lambda: G.garble(lin, n, 1), repeat)
    labels = dict(sec.zero_labels)  # any active labels do for timing
    te, ce, _ = timed(lambda: G.evaluate(lin, gc, labels), repeat)
    return tg, cg, te, ce, gc


def sweep(lin, n: int, repeat: int) -> None:
    print("\nsweep (CPU-time M AND/s):  block  budget  garble  evaluate")
    saved = G.BLOCK, gc_plan.AND_BUDGET
    for block in (2048, 4096, 8192):
        for budget in (2048, 4096, 8192, 16384):
            G.BLOCK, gc_plan.AND_BUDGET = block, budget
            _, cg, _, ce, _ = run(lin, n, repeat)
            ands = lin.and_count * n
            print(f"{block:>31} {budget:>7} {ands / cg / 1e6:7.2f} {ands / ce / 1e6:9.2f}")
    G.BLOCK, gc_plan.AND_BUDGET = saved


def profile(lin, n: int) -> None:
    gc, sec = G.garble(lin, n, 0)
    for name, stmt in (("garble", lambda: G.garble(lin, n, 1)),
                       ("evaluate", lambda: G.evaluate(lin, gc, dict(sec.zero_labels)))):
        prof = cProfile.Profile()
        prof.runcall(stmt)
        print(f"\nprofile of {name}:")
        pstats.Stats(prof).sort_stats("tottime").print_stats(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    program = compile_model(args.model)
    lin = program.activation(1).masked_linear
    n, ands = args.n, lin.and_count * args.n
    ops = collections.Counter(st.op.name for st in lin.steps)
    gates = collections.Counter({st.op.name: 0 for st in lin.steps})
    for st in lin.steps:
        gates[st.op.name] += len(st)
    plan = gc_plan.plan_for(lin)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; python "
          f"{platform.python_version()}, numpy {np.__version__}, cryptography "
          f"{cryptography.__version__}")
    print(f"circuit: masked tanh* of {args.model!r}: {gates['AND']} AND, {gates['XOR']} XOR, "
          f"{gates['NOT']} NOT in {len(lin.steps)} steps ({ops['AND']} AND steps); "
          f"{lin.n_wires} wires in {plan.n_slots} label slots")
    print(f"batch: {n} instances = {ands / 1e6:.2f} M AND; block {G.BLOCK}, AND budget "
          f"{gc_plan.AND_BUDGET}; best of {args.repeat}")

    aes = aes_rate()
    tg, cg, te, ce, gc = run(lin, n, args.repeat)
    print(f"\nAES-128 ECB (cryptography, 64K blocks per call): {aes / 1e6:.0f} M blocks/s")
    for name, wall, cpu, blocks in (("garble", tg, cg, 8), ("evaluate", te, ce, 4)):
        bound = ands * blocks / aes
        print(f"{name:>8}: {ands / wall / 1e6:6.2f} M AND/s wall, {ands / cpu / 1e6:6.2f} M AND/s "
              f"CPU ({cpu * 1e9 / ands:5.1f} ns/AND); AES bound {ands / bound / 1e6:5.1f} M AND/s "
              f"({blocks} blocks/AND), time / bound = {cpu / bound:.1f}")
    msg = len(gc_to_bytes(gc))
    print(f"\nwire: tables {gc.tables.nbytes / ands:.0f} bytes/AND; whole message "
          f"{msg / ands:.2f} bytes/AND ({msg / n:.0f} bytes/instance incl. decoding bits)")
    in_bits = sum(len(v) for v in lin.inputs.values())
    out_bits = sum(len(v) for v in lin.outputs.values())
    fixed = {h: scratch_for(plan, min(n, G.BLOCK), h, 0).nbytes for h in (4, 2)}
    print(f"memory per instance: garbler {(32 * lin.and_count + 16 * in_bits) / 1024:.1f} KB "
          f"(tables + input zero-labels), evaluator "
          f"{(32 * lin.and_count + 16 * (in_bits + out_bits)) / 1024:.1f} KB (tables + input "
          f"and output labels); fixed scratch {fixed[4] / 2**20:.0f} MB (garbler), "
          f"{fixed[2] / 2**20:.0f} MB (evaluator) per thread")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.sweep:
        sweep(lin, min(n, 16384), max(2, args.repeat // 2))
    if args.profile:
        profile(lin, min(n, 8192))


if __name__ == "__main__":
    main()
