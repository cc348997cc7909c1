"""The garbler's pass over one block of instances: free-XOR, free NOT, half-gates AND.

W holds zero-labels (the label of value 0) as (slots, n, 2) uint64; R is the free-XOR offset,
tiled to (n, 2) rows, so a wire's one-label is its zero-label xor R. Every numpy call covers
all gates of a step and all instances of the block. Steps are bound once per block size
(every view prepared; see gc_scratch.Scratch.program) and then run block after block.

Half-gates (Zahur, Rosulek, Evans, Eurocrypt 2015), with pa = lsb(A0), pb = lsb(B0), tweaks
j (generator half) and j' (evaluator half):
    TG = H(A0, j)  ^ H(A1, j)  ^ pb*R          WG0 = H(A0, j)  ^ pa*TG
    TE = H(B0, j') ^ H(B1, j') ^ A0            WE0 = H(B0, j') ^ pb*(TE ^ A0)
    C0 = WG0 ^ WE0, and the table row is (TG, TE).
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op

from veil.backends.yao.gc.plan import PlanStep
from veil.backends.yao.gc.scratch import Bound, Role, Scratch, bind_gather, bind_xor
from veil.backends.yao.gc.tweaks import gate_offsets
from veil.backends.yao.gc.labels import colour_masks, words

_xor, _and, _add = np.bitwise_xor, np.bitwise_and, np.add

ROLE = Role("half-gates garbler", hashed=4, tweaks=2, temps=(("m", 4), ("u", 2), ("v", 2)))


def _bind_and(st: PlanStep, s: Scratch, n: int) -> Bound:
    W, R, ctr = s.wires(n), s.r[:n], s.ctr[:n]
    g = st.width
    x = s.view("x", 4 * g, n, 2)
    lo, hi, a0 = x[:2 * g], x[2 * g:], x[:g]              # [A0, B0], [A1, B1], A0
    t = s.view("t", 2 * g, n, 2)                          # [j, j'] (word 1 preset)
    t0, off = t[..., 0], gate_offsets(np.arange(st.gates.start, st.gates.stop))[:, None]
    hash_run, h = s.hash.bind(x, t)
    h = h.reshape(2, 2, g, n, 2)                          # h[bit][half]
    h0, h1, ha0, hb0 = h[0], h[1], h[0, 0], h[0, 1]
    m = s.view("m", 2 * g, n, 2)
    pa, pb = m[:g], m[g:]                                 # all-ones where the colour is 1
    c, v = s.view("u", g, n, 2), s.view("v", g, n, 2)
    out, ab, gates = W[st.out], st.ab, st.gates
    take = W.take

    def run(tab: np.ndarray) -> None:
        take(ab, axis=0, out=lo, mode="clip")
        _xor(lo, R, out=hi)
        _add(ctr, off, out=t0)
        hash_run()
        rows = tab[gates].transpose(1, 0, 2, 3)           # [TG, TE], written in place
        tg, te = rows[0], rows[1]
        _xor(h0, h1, out=rows)                            # H(A0)^H(A1), H(B0)^H(B1)
        colour_masks(lo, m)
        _xor(ha0, hb0, out=c)
        _and(te, pb, out=v)
        _xor(c, v, out=c)                                 # H(A0) ^ WE0
        _and(pb, R, out=v)
        _xor(tg, v, out=tg)                               # TG done
        _xor(te, a0, out=te)                              # TE done
        _and(tg, pa, out=v)
        _xor(c, v, out=out)                               # C0 = WG0 ^ WE0
    return run


def bind_step(st: PlanStep, s: Scratch, n: int) -> Bound:
    if st.op is Op.AND:
        return _bind_and(st, s, n)
    if st.op is Op.XOR:
        return bind_xor(st, s, n)
    # NOT: the zero-label of !a is the one-label of a; the evaluator just copies
    W, R = s.wires(n), s.r[:n]
    a, out = bind_gather(st.a, s, n, "a"), W[st.out]
    return lambda tab: _xor(a(), R, out=out)


def garble_block(s: Scratch, n: int, tables: np.ndarray, control: np.ndarray, i0: int,
                 i1: int, draw=None) -> None:
    """Garble one block, instances i0..i1 (n of them): s.wires(n) holds the zero-labels of the
    inputs and constants and s.ctr[:n] the tweak counters on entry; fills the gate wires and
    the block's slice of tables ((and_count, 2, N, 16) uint8). No control bits, no dice
    (`draw` is unused: half-gates is deterministic given the labels)."""
    tab = words(tables)[:, :, i0:i1]
    for run in s.program(n, bind_step):
        run(tab)
