"""The evaluator's pass over one block of instances: it only ever holds one label per wire.

Half-gates evaluation with sa = lsb(A), sb = lsb(B) (the colours select the table rows):
    C = H(A, j) ^ sa*TG  ^  H(B, j') ^ sb*(TE ^ A)
XOR gates xor the labels, NOT gates copy them (the garbler flipped the zero-label instead).
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op

from veil.backends.yao.gc.plan import PlanStep
from veil.backends.yao.gc.scratch import Bound, Role, Scratch, bind_gather, bind_xor
from veil.backends.yao.gc.tweaks import gate_offsets
from veil.backends.yao.gc.labels import colour_masks, words

_xor, _and, _add = np.bitwise_xor, np.bitwise_and, np.add

ROLE = Role("half-gates evaluator", hashed=2, tweaks=2, temps=(("m", 4), ("u", 2), ("v", 2)))


def _bind_and(st: PlanStep, s: Scratch, n: int) -> Bound:
    W, ctr = s.wires(n), s.ctr[:n]
    g = st.width
    x = s.view("x", 2 * g, n, 2)                          # [A, B]
    a = x[:g]
    t = s.view("t", 2 * g, n, 2)
    t0, off = t[..., 0], gate_offsets(np.arange(st.gates.start, st.gates.stop))[:, None]
    hash_run, h = s.hash.bind(x, t)                       # [H(A, j), H(B, j')]
    ha, hb = h[:g], h[g:]
    m = s.view("m", 2 * g, n, 2)
    sa, sb = m[:g], m[g:]
    c, v = s.view("u", g, n, 2), s.view("v", g, n, 2)
    out, ab, gates = W[st.out], st.ab, st.gates
    take = W.take

    def run(tab: np.ndarray) -> None:
        take(ab, axis=0, out=x, mode="clip")
        _add(ctr, off, out=t0)
        hash_run()
        colour_masks(x, m)
        _xor(ha, hb, out=c)
        _and(tab[gates, 0], sa, out=v)
        _xor(c, v, out=c)                                 # WG ^ H(B)
        _xor(tab[gates, 1], a, out=v)
        _and(v, sb, out=v)
        _xor(c, v, out=out)                               # WG ^ WE
    return run


def bind_step(st: PlanStep, s: Scratch, n: int) -> Bound:
    if st.op is Op.AND:
        return _bind_and(st, s, n)
    if st.op is Op.XOR:
        return bind_xor(st, s, n)
    a, out = bind_gather(st.a, s, n, "a"), s.wires(n)[st.out]
    return lambda tab: np.copyto(out, a())


def evaluate_block(s: Scratch, n: int, tables: np.ndarray, control: np.ndarray, i0: int,
                   i1: int) -> None:
    """Evaluate one block, instances i0..i1 (n of them): s.wires(n) holds the active labels of
    the inputs and constants and s.ctr[:n] the tweak counters on entry; fills the gate
    wires."""
    tab = words(tables)[:, :, i0:i1]
    for run in s.program(n, bind_step):
        run(tab)
