"""The garbler's pass over one block of instances under three-halves (docs/garbling.md).

Rosulek and Roy (Crypto 2021): labels cut into halves (L, R) = uint64 words (0, 1); with
pa, pb the colours of the zero-labels A0, B0, the colour-0 labels a = A0 ^ pa R, b = B0 ^ pb R,
the half-hashes h (word 0 of H) and control hash bits c (bit 0 of word 1) of a, b, a ^ b and
of the same xor R (tweaks t_A, t_B, t_AB), X0 = a_L ^ a_R ^ b_L, Y0 = a_L ^ b_R, fresh random
bits rho1, rho2 (the dicing), u = pa ^ rho2, v = pb ^ rho1, w = u ^ v:
    C0_L = hA0 ^ hAB0 ^ rho1 X0 ^ rho2 Y0 ^ pa pb R_L       C0_R = hB0 ^ hAB0 ^ rho1 Y0
                                                                   ^ rho2 (X0 ^ Y0) ^ pa pb R_R
    G0 = hA0 ^ hA1 ^ b_L ^ pa X0 ^ pb Y0 ^ u R_L ^ w R_R
    G1 = hB0 ^ hB1 ^ a_R ^ pa Y0 ^ pb (X0 ^ Y0) ^ w R_L ^ v R_R
    G2 = hAB0 ^ hAB1 ^ pa (X0 ^ Y0) ^ pb X0 ^ v R_L ^ u R_R
    z = (rho1 ^ cA0 ^ cAB0, rho2 ^ cB0 ^ cAB0, pa ^ cA0 ^ cA1, pb ^ cB0 ^ cB1,
         pa ^ pb ^ cAB0 ^ cAB1)
The six hashes run on label pairs; everything after works on (g, n) planes of one half each,
several planes per numpy call where the formulas line up ([G0, G1, G2] at once). R's terms in
G are u [R_L^R_R, R_L, R_R] ^ v [R_R, R_L^R_R, R_L] (w = u ^ v expanded), two masks against
per-garbling constants (Scratch.r_terms); the dice are byte planes [rho2, rho1] per block.
XOR and NOT steps are half-gates' (garbler.py): free-XOR does not depend on the AND gate.
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op

from veil.backends.yao.gc import garbler as half_gates
from veil.backends.yao.gc.labels import WORD, random_bytes
from veil.backends.yao.gc.plan import PlanStep
from veil.backends.yao.gc.scratch import Bound, Role, Scratch
from veil.backends.yao.gc.tweaks import gate_offsets

_xor, _and, _add = np.bitwise_xor, np.bitwise_and, np.add

ROLE = Role("three-halves garbler", hashed=6, tweaks=3,
            temps=(("pm", 2), ("k", 4), ("d", 2), ("uw", 2), ("p", 3), ("o", 2), ("cb", 1)),
            scale=2)


def _bind_and(st: PlanStep, s: Scratch, n: int) -> Bound:
    W, R, ctr = s.wires(n), s.r[:n], s.ctr[:n]
    rc = s.r_terms                      # [R_L, R_R], u's and v's R terms of [G0, G1, G2]
    r2, cu, cv = rc[0:2], rc[2:5], rc[5:8]
    g, gates = st.width, st.gates
    x = s.view("x", 6 * g, n, 2)        # [a, b, a^b] then the same xor R
    lo, hi, ab = x[:3 * g], x[3 * g:], x[:2 * g]
    a, b, a_b = x[:g], x[g:2 * g], x[2 * g:3 * g]
    aL, aR, bL = a[..., 0], a[..., 1], b[..., 0]
    halves = [ab[..., w].reshape(2, g, n) for w in (0, 1)]      # [A_w; B_w]
    colour_bytes = ab.view(np.uint8)[..., 0].reshape(2, g, n)
    t = s.view("t", 3 * g, n, 2)        # [t_A, t_B, t_AB] (word 1 preset)
    t0, off = t[..., 0], gate_offsets(np.arange(gates.start, gates.stop), 3)[:, None]
    hash_run, (hw, hb) = s.hash.bind(x, t, halves=True)
    hw = hw.reshape(2, 3, g, n)         # [colour][A, B, AB]: half-hashes
    hb = hb.reshape(2, 3, g, n)         # bit 0: control hash bits
    pm = s.view("pm", 2, g, n)          # pa, pb as masks
    pa, pb = pm[0], pm[1]
    cb = s.bytes("cb", 3, g, n)         # pa, pb, pa ^ pb as bits
    k = s.view("k", 4, g, n)            # X0, Y0, X0^Y0, X0
    d = s.view("d", 2, g, n)            # rho2, rho1 as masks
    uv = s.view("uw", 2, g, n)          # u = pa ^ rho2, v = pb ^ rho1
    p = s.view("p", 3, g, n)
    o = s.view("o", 2, g, n)            # C0_L, C0_R
    out = W[st.out].transpose(2, 0, 1)
    take, ab_idx = W.take, st.ab

    def run(blk) -> None:
        tab, ctl, rho = blk
        take(ab_idx, axis=0, out=ab, mode="clip")
        _and(colour_bytes, 1, out=cb[0:2])
        np.subtract(0, cb[0:2], out=pm.view(np.int64), dtype=np.int64)
        for half, rw in zip(halves, r2):                # colour-0 labels a, b
            _and(pm, rw, out=p[0:2])
            _xor(half, p[0:2], out=half)
        _xor(a, b, out=a_b)
        _xor(lo, R, out=hi)
        _add(ctr, off, out=t0)
        hash_run()
        _xor(aL, halves[1], out=k[0:2])                # a_L ^ a_R, a_L ^ b_R
        _xor(k[0], bL, out=k[0])
        _xor(k[0], k[1], out=k[2])
        np.copyto(k[3], k[0])
        rb = rho[:, gates]                              # rho2, rho1 as bits
        np.subtract(0, rb, out=d.view(np.int64), dtype=np.int64)
        _xor(pm, d, out=uv)
        _xor(hw[0, 0:2], hw[0, 2], out=o)              # the output's zero-label
        _and(k[0:2], d[1], out=p[0:2])
        _xor(o, p[0:2], out=o)
        _and(k[1:3], d[0], out=p[0:2])
        _xor(o, p[0:2], out=o)
        _and(pa, pb, out=p[2])
        _and(r2, p[2], out=p[0:2])
        _xor(o, p[0:2], out=out)
        G = tab[gates].transpose(1, 0, 2)               # [G0, G1, G2]
        _xor(hw[0], hw[1], out=G)
        _xor(G[0], bL, out=G[0])
        _xor(G[1], aR, out=G[1])
        for mask, terms in ((pa, k[0:3]), (pb, k[1:4]), (uv[0], cu), (uv[1], cv)):
            _and(terms, mask, out=p)
            _xor(G, p, out=G)
        z = ctl[:, gates]                               # z0..z4, as bytes
        _xor(hb[0, 0:2], hb[0, 2], out=z[0:2])
        _xor(z[0:2], rb[::-1], out=z[0:2])
        _xor(hb[0], hb[1], out=z[2:5])
        _xor(cb[0], cb[1], out=cb[2])
        _xor(z[2:5], cb, out=z[2:5])
        _and(z, 1, out=z)
    return run


def bind_step(st: PlanStep, s: Scratch, n: int) -> Bound:
    return _bind_and(st, s, n) if st.op is Op.AND else half_gates.bind_step(st, s, n)


def garble_block(s: Scratch, n: int, tables: np.ndarray, control: np.ndarray, i0: int,
                 i1: int, draw=None) -> None:
    """Garble one block, instances i0..i1 (n of them): s.wires(n) holds the zero-labels of the
    inputs and constants and s.ctr[:n] the tweak counters on entry; fills the gate wires, the
    block's slice of tables ((and_count, 3, N, 8) uint8) and of control ((5, and_count, N)
    uint8). The dice: two CSPRNG bits per gate and instance, drawn for the block as planes
    [rho2, rho1] of bytes 0 or 1 (draw(nbytes): garble's seeded stream, else fresh)."""
    r = (draw or random_bytes)(s.plan.and_count * n).reshape(s.plan.and_count, n)
    rho = np.empty((2, s.plan.and_count, n), np.uint8)
    np.right_shift(r, 1, out=rho[0])
    _and(rho[0], 1, out=rho[0])
    _and(r, 1, out=rho[1])
    blk = (tables.view(WORD)[..., 0][:, :, i0:i1], control[:, :, i0:i1], rho)
    for run in s.program(n, bind_step):
        run(blk)
