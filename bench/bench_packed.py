"""The `packed` lowering's linear-layer costs on compact's layer 2 (256 x 256), per MAC.

    python bench/bench_packed.py [--bits 2048] [--patches 2] [--layer 2]

CPU seconds (time.process_time, one thread) of each step of packed_linear.py for a batch of
patches, divided per patch and per MAC (n_in * n_out per patch), next to the `paper`
lowering's ~57 ms (user) + ~69 ms (cloud) per MAC. Provisioning (once per model and user) is
measured on a sample of ciphertexts and extrapolated. Setup-only encryptions use the user's
CRT noise to save time (the owner would use fresh noise; the online figures do not depend on
it). Prints only.
"""
from __future__ import annotations

import argparse
import time
import warnings

from veil.backends.yao import packed_linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.packed_shapes import PackedShapes
from veil.compiler.driver import compile_spec
from veil.compiler.program import SecurityParams

PAPER_MS_PER_MAC = 56.85 + 68.8      # seed paper, user + cloud, per product
PAPER_LOWERING_MS = 57.0             # this project's `paper` lowering, per MAC


def clock(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bits", type=int, default=2048)
    ap.add_argument("--patches", type=int, default=2)
    ap.add_argument("--layer", type=int, default=2)
    ap.add_argument("--sample", type=int, default=32, help="ciphertexts timed for provisioning")
    a = ap.parse_args()
    sec = SecurityParams(modulus_bits=a.bits)
    layer = compile_spec("compact", "packed", sec).dense[a.layer - 1].layer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        (pk_u, sk_u), (pk_c, sk_c) = P.generate_keypair(a.bits), P.generate_keypair(a.bits)
    sh = PackedShapes.of(layer, sec, pk_c.bits)
    macs = layer.n_in * layer.n_out
    print(f"compact layer {a.layer}: {layer.n_out} x {layer.n_in}, |N| = {a.bits}, "
          f"slot {sh.slot_bits} bits x {sh.slots} per ciphertext ({sh.blocks} blocks), "
          f"cloud slot {sh.wide_bits} bits x {sh.wide_slots} ({sh.wide_blocks} blocks)")

    crt_u, crt_c = P.CrtNoise(sk_u), P.CrtNoise(sk_c)
    columns = L.publish_columns(pk_u, layer, sh, crt_u)
    bias = L.publish_bias(pk_u, layer, sh, crt_u)
    R = L.draw_weight_masks(sh)
    masked = L.masked_columns(pk_u, columns, R, sh, crt_u)
    V, t_unmask = clock(lambda: L.unmask_columns(sk_u, masked, sh))
    enc_R, t_encR = clock(lambda: L.encrypt_wide_masks(pk_c, R, sh, crt_c))
    sample = masked[:a.sample]
    _, t_fresh = clock(lambda: P.encrypt(pk_u, [1] * len(sample)))
    _, t_rerand = clock(lambda: P.rerandomise_all(pk_u, sample))
    n_cols = sh.blocks * sh.n_in
    print("provisioning (once per model and user):")
    print(f"  owner publish  {t_fresh / len(sample) * n_cols:8.2f} s  ({n_cols} fresh encryptions, extrapolated)")
    print(f"  cloud W + R    {t_rerand / len(sample) * n_cols:8.2f} s  (rerandomise, extrapolated)")
    print(f"  cloud Enc_c(R) {t_encR:8.2f} s  ({len(enc_R)} CRT encryptions)")
    print(f"  user  V        {t_unmask:8.2f} s  ({len(masked)} decryptions)")

    P_ = a.patches
    r = L.draw_input_masks(sh, P_)
    (wide, narrow), t_uoff = clock(lambda: L.user_offline(pk_c, pk_u, enc_R, V, r, sh, crt_u))
    r_c = L.draw_accumulator_masks(sh, P_)
    corr, t_coff = clock(lambda: L.cloud_offline(sk_c, pk_u, wide, narrow, bias, r_c, sh))
    y = L.draw_input_masks(sh, P_)          # y' = y + r: exponents of the same size as r
    cts, t_con = clock(lambda: L.cloud_online(pk_u, columns, y, corr, sh))
    _, t_uon = clock(lambda: L.user_decode(sk_u, cts, sh, signed=False))

    def row(name: str, secs: float) -> None:
        per_patch = secs / P_
        print(f"  {name:22s} {per_patch * 1e3:9.1f} ms/patch {per_patch / macs * 1e6:9.2f} us/MAC")
    print(f"per patch ({P_} patches, {macs} MACs each):")
    row("offline user", t_uoff)
    row("offline cloud", t_coff)
    row("online cloud multi-exp", t_con)
    row("online user decrypt", t_uon)
    total = (t_uoff + t_coff + t_con + t_uon) / P_ / macs * 1e3
    online = (t_con + t_uon) / P_ / macs * 1e3
    print(f"  total {total * 1e3:.2f} us/MAC (online {online * 1e3:.2f} us/MAC) vs paper "
          f"{PAPER_MS_PER_MAC:.1f} ms/MAC (seed) -> x{PAPER_MS_PER_MAC / total:,.0f} "
          f"(online x{PAPER_MS_PER_MAC / online:,.0f}); vs our paper lowering "
          f"{PAPER_LOWERING_MS:.0f} ms/MAC: x{PAPER_LOWERING_MS / total:,.0f} "
          f"(online x{PAPER_LOWERING_MS / online:,.0f})")


if __name__ == "__main__":
    main()
