"""Paillier layer costs on this machine: encryption modes, CRT decryption, mulmod, pow, multi-exp.

    python bench/bench_paillier.py [--key-bits 2048 3072] [--repeat 5] [--batch 16]

Best of `repeat` runs, per element. Prints the load average first (and last): other jobs
(training) may share the CPU, which inflates every figure roughly by the same factor.
"""
from __future__ import annotations

import argparse
import os
import platform
import secrets
import subprocess
import time
import warnings
from collections.abc import Callable

import gmpy2

from veil.backends.yao.paillier import (
    CrtNoise, FreshNoise, NoisePool, ShortExpNoise, decrypt, decrypt_without_crt, encrypt,
    generate_keypair, multi_exp, to_phe)
from veil.backends.yao.paillier.multiexp import naive_multi_exp_mod, window_bits
from veil.backends.yao.paillier.subset_noise import SubsetProductNoise, pool_size


def best(fn: Callable[[], object], repeat: int, per: int = 1) -> float:
    """Seconds per item: minimum over runs of one call of fn handling `per` items."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) / per


def show(label: str, seconds: float, note: str = "") -> None:
    value = f"{seconds * 1e3:10.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:10.2f} us"
    print(f"  {label:<46}{value}  {note}")


def load() -> str:
    """`uptime` output (load average) and the CPU count it should be read against."""
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out = "load average: {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())
    return f"{out} ({os.cpu_count()} CPUs)"


def bench(bits: int, repeat: int, batch: int) -> None:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pk, sk = generate_keypair(bits)
    print(f"\n|n| = {bits}: key generation {time.perf_counter() - t0:.2f} s (one run)")
    n, n2 = pk.n, pk.nsquare
    values = [secrets.randbelow(int(n)) for _ in range(batch)]

    print(" encryption, per value")
    fresh = best(lambda: encrypt(pk, values, FreshNoise(pk)), repeat, batch)
    show("standard (r^n mod n^2, r uniform)", fresh)
    crt = best(lambda: encrypt(pk, values, CrtNoise(sk)), repeat, batch)
    show("standard, key owner via CRT", crt, f"x{fresh / crt:.1f}")
    t0 = time.perf_counter()
    short = ShortExpNoise(pk)
    table = time.perf_counter() - t0
    fast = best(lambda: encrypt(pk, values, short), repeat, batch)
    show(f"fast mode (h_n^s, {short.exp_bits}-bit s, table w={short.window})", fast,
         f"x{fresh / fast:.1f}; table {table * 1e3:.0f} ms once")
    t0 = time.perf_counter()
    subset = SubsetProductNoise(pk, FreshNoise(pk).take(pool_size(pk)))
    made = time.perf_counter() - t0
    uniform = best(lambda: encrypt(pk, values, subset), repeat, batch)
    show("uniform, subset product of a pool (long jobs)", uniform,
         f"x{fresh / uniform:.1f}; pool of {pool_size(pk)} r^n and tables {made:.1f} s once")
    pool = NoisePool(short, size=batch * repeat)
    online = best(lambda: encrypt(pk, values, pool), repeat, batch)
    show("from a precomputed pool (online part only)", online, f"x{fresh / online:.0f}")
    phe_pk, phe_sk = to_phe(sk)
    show("phe raw_encrypt (reference)", best(lambda: [phe_pk.raw_encrypt(v) for v in values],
                                               repeat, batch))

    print(" decryption, per value")
    cts = encrypt(pk, values, short)
    with_crt = best(lambda: decrypt(sk, cts), repeat, batch)
    show("CRT (gmpy2, this module)", with_crt)
    without = best(lambda: decrypt_without_crt(sk, cts), repeat, batch)
    show("without CRT (c^phi mod n^2)", without, f"CRT x{without / with_crt:.1f}")
    show("phe raw_decrypt (CRT, reference)", best(lambda: [phe_sk.raw_decrypt(int(c)) for c in cts],
                                                    repeat, batch))

    print(" primitives mod n^2")
    a, b = cts[0], cts[1]
    k = 2000
    show("one multiplication (a*b % n^2)", best(lambda: [a * b % n2 for _ in range(k)], repeat, k))
    e50, e_full = secrets.randbits(50), secrets.randbits(bits) | (1 << (bits - 1))
    show("pow, 50-bit exponent", best(lambda: [gmpy2.powmod(a, e50, n2) for _ in range(50)],
                                      repeat, 50))
    show(f"pow, {bits}-bit exponent", best(lambda: [gmpy2.powmod(a, e_full, n2) for _ in range(4)],
                                          repeat, 4))

    count, ebits = 256, 50
    bases = encrypt(pk, values * (count // batch + 1), short)[:count]
    exps = [secrets.randbits(ebits) for _ in range(count)]
    assert multi_exp(pk, bases, exps) == naive_multi_exp_mod(bases, exps, n2)
    pip = best(lambda: multi_exp(pk, bases, exps), 2 * repeat)
    naive = best(lambda: naive_multi_exp_mod(bases, exps, n2), 2 * repeat)
    print(f" multi-exponentiation, {count} bases, {ebits}-bit exponents "
          f"(window {window_bits(count, ebits)})")
    show("Pippenger (multi_exp)", pip, f"{pip / count * 1e6:.1f} us per base")
    show("naive product of pows", naive, f"Pippenger x{naive / pip:.2f} faster")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--key-bits", dest="bits", type=int, nargs="+", default=[2048, 3072])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, gmpy2 {gmpy2.version()}")
    print(f"start: {load()}")
    for bits in args.bits:
        bench(bits, args.repeat if bits <= 2048 else max(2, args.repeat // 2), args.batch)
    print(f"\nend: {load()}")


if __name__ == "__main__":
    main()
