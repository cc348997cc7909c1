"""The evaluator's pass over one block of instances under three-halves (docs/garbling.md).

With the active labels A, B, their colours i = lsb(A_L), j = lsb(B_L), the half-hashes h and
control hash bits c of A, B, A ^ B (tweaks t_A, t_B, t_AB), and the gate's G0, G1, G2, z:
    r1  = z0 ^ i z2 ^ (i^j) z4 ^ cA ^ cAB        r2 = z1 ^ j z3 ^ (i^j) z4 ^ cB ^ cAB
    X   = A_L ^ A_R ^ B_L,  Y = A_L ^ B_R
    C_L = hA ^ hAB ^ i (G0 ^ B_L) ^ (i^j) G2 ^ r1 X ^ r2 Y
    C_R = hB ^ hAB ^ j (G1 ^ A_R) ^ (i^j) G2 ^ r1 Y ^ r2 (X ^ Y)
computed for both halves at once on (2, g, n) planes ([C_L, C_R], [i, j], [X, Y], [Y, X^Y])
and written into the wire table's label pairs at the end. XOR and NOT steps are half-gates'.
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op

from veil.backends.yao.gc import evaluator as half_gates
from veil.backends.yao.gc.labels import WORD
from veil.backends.yao.gc.plan import PlanStep
from veil.backends.yao.gc.scratch import Bound, Role, Scratch
from veil.backends.yao.gc.tweaks import gate_offsets

_xor, _and, _add = np.bitwise_xor, np.bitwise_and, np.add

ROLE = Role("three-halves evaluator", hashed=3, tweaks=3,
            temps=(("m", 5), ("k", 3), ("p", 2), ("o", 2), ("mb", 1), ("tb", 1)), scale=2)


def _bind_and(st: PlanStep, s: Scratch, n: int) -> Bound:
    W, ctr = s.wires(n), s.ctr[:n]
    g, gates = st.width, st.gates
    x = s.view("x", 3 * g, n, 2)        # [A, B, A^B]
    ab, a, b, a_b = x[:2 * g], x[:g], x[g:2 * g], x[2 * g:]
    aL, aR, bL = a[..., 0], a[..., 1], b[..., 0]
    t = s.view("t", 3 * g, n, 2)
    t0, off = t[..., 0], gate_offsets(np.arange(gates.start, gates.stop), 3)[:, None]
    hash_run, (hw, hb) = s.hash.bind(x, t, halves=True)
    hw = hw.reshape(3, g, n)            # hA, hB, hAB
    hb = hb.reshape(3, g, n)            # bit 0: cA, cB, cAB
    halves = [ab[..., w].reshape(2, g, n) for w in (0, 1)]      # [A_w; B_w]
    colour_bytes = ab.view(np.uint8)[..., 0].reshape(2, g, n)
    mb = s.bytes("mb", 5, g, n)         # i, j, i^j, r1, r2 as bits
    cb, rb = mb[0:2], mb[3:5]
    m = s.view("m", 5, g, n)            # the same as masks
    r = m[3:5]
    k = s.view("k", 3, g, n)            # X, Y, X^Y
    tb = s.bytes("tb", 2, g, n)
    p = s.view("p", 2, g, n)
    o = s.view("o", 2, g, n)            # C_L, C_R
    out = W[st.out].transpose(2, 0, 1)
    take, ab_idx = W.take, st.ab

    def run(blk) -> None:
        tab, ctl = blk
        take(ab_idx, axis=0, out=ab, mode="clip")
        _xor(a, b, out=a_b)
        _add(ctr, off, out=t0)
        hash_run()
        _and(colour_bytes, 1, out=cb)
        _xor(cb[0], cb[1], out=mb[2])
        _xor(aL, halves[1], out=k[0:2])                # A_L ^ A_R, A_L ^ B_R
        _xor(k[0], bL, out=k[0])
        _xor(k[0], k[1], out=k[2])
        z = ctl[:, gates]                               # the control bits r1, r2, as bytes
        _xor(hb[0:2], hb[2], out=rb)
        _and(rb, 1, out=rb)
        _xor(rb, z[0:2], out=rb)
        _and(cb, z[2:4], out=tb)
        _xor(rb, tb, out=rb)
        _and(mb[2], z[4], out=tb[0])
        _xor(rb, tb[0], out=rb)
        np.subtract(0, mb, out=m.view(np.int64), dtype=np.int64)
        G = tab[gates].transpose(1, 0, 2)               # [G0, G1, G2]
        _xor(hw[0:2], hw[2], out=o)
        _xor(G[0], bL, out=p[0])
        _xor(G[1], aR, out=p[1])
        _and(p, m[0:2], out=p)
        _xor(o, p, out=o)
        _and(m[2], G[2], out=p[0])
        _xor(o, p[0], out=o)
        _and(k[0:2], r[0], out=p)
        _xor(o, p, out=o)
        _and(k[1:3], r[1], out=p)
        _xor(o, p, out=out)
    return run


def bind_step(st: PlanStep, s: Scratch, n: int) -> Bound:
    return _bind_and(st, s, n) if st.op is Op.AND else half_gates.bind_step(st, s, n)


def evaluate_block(s: Scratch, n: int, tables: np.ndarray, control: np.ndarray, i0: int,
                   i1: int) -> None:
    """Evaluate one block, instances i0..i1 (n of them): s.wires(n) holds the active labels of
    the inputs and constants and s.ctr[:n] the tweak counters on entry; fills the gate wires
    from tables ((and_count, 3, N, 8) uint8) and control ((5, and_count, N) uint8)."""
    blk = (tables.view(WORD)[..., 0][:, :, i0:i1], control[:, :, i0:i1])
    for run in s.program(n, bind_step):
        run(blk)
