"""The garbler's pass over one block of instances: free-XOR, free NOT, half-gates AND.

W holds zero-labels (the label of value 0) as (n_wires, n, 2) uint64; R is the free-XOR offset,
so a wire's one-label is its zero-label xor R (tiled to (n, 2) rows in the scratch). One Python iteration per step, every numpy call
covers all gates of the step and all instances of the block.

Half-gates (Zahur, Rosulek, Evans, Eurocrypt 2015), with pa = lsb(A0), pb = lsb(B0), tweaks
j (generator half) and j' (evaluator half):
    TG = H(A0, j)  ^ H(A1, j)  ^ pb*R          WG0 = H(A0, j)  ^ pa*TG
    TE = H(B0, j') ^ H(B1, j') ^ A0            WE0 = H(B0, j') ^ pb*(TE ^ A0)
    C0 = WG0 ^ WE0, and the table row is (TG, TE).
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op

from .gc_plan import Plan, PlanStep
from .gc_scratch import Scratch, gather
from .gc_tweaks import step_tweaks
from .labels import colour_masks


def _and(st: PlanStep, W: np.ndarray, R: np.ndarray, tab: np.ndarray, ctr: np.ndarray,
         s: Scratch) -> None:
    g, n = st.width, W.shape[1]
    x = s.view("x", 4 * g, n, 2)
    np.take(W, st.ab, axis=0, out=x[:2 * g], mode="clip")   # [A0, B0]
    np.bitwise_xor(x[:2 * g], R, out=x[2 * g:])              # [A1, B1]
    t = step_tweaks(ctr, st.offsets, s.view("t", 2 * g, n, 2))  # [j, j']
    h = s.hash.hash(x, t).reshape(2, 2, g, n, 2)             # h[bit][half]
    rows = tab[st.gates].transpose(1, 0, 2, 3)               # [TG, TE], written in place
    tg, te = rows[0], rows[1]
    np.bitwise_xor(h[0], h[1], out=rows)                     # H(A0)^H(A1), H(B0)^H(B1)
    m = colour_masks(x[:2 * g], s.view("m", 2 * g, n, 2))
    pa, pb = m[:g], m[g:]
    c, v = s.view("u", g, n, 2), s.view("v", g, n, 2)
    np.bitwise_xor(h[0, 0], h[0, 1], out=c)                  # H(A0) ^ H(B0)
    np.bitwise_and(te, pb, out=v)
    c ^= v                                                   # H(A0) ^ WE0
    np.bitwise_and(pb, R, out=v)
    tg ^= v                                                  # TG done
    te ^= x[:g]                                              # TE done
    np.bitwise_and(tg, pa, out=v)
    np.bitwise_xor(c, v, out=W[st.out])                      # C0 = WG0 ^ WE0


def garble_block(plan: Plan, s: Scratch, W: np.ndarray, tab: np.ndarray,
                 ctr: np.ndarray) -> None:
    """Fill W's gate wires and the tables `tab` ((and_count, 2, n, 2) uint64) of one block;
    W's input and constant wires hold their zero-labels on entry, ctr the block's tweak
    counters (gc_tweaks.instance_counters)."""
    R = s.r[:W.shape[1]]
    for st in plan.steps:
        if st.op is Op.AND:
            _and(st, W, R, tab, ctr, s)
        elif st.op is Op.XOR:
            np.bitwise_xor(gather(W, st.a, s, "a"), gather(W, st.b, s, "b"), out=W[st.out])
        else:  # NOT: the zero-label of !a is the one-label of a; the evaluator just copies
            np.bitwise_xor(gather(W, st.a, s, "a"), R, out=W[st.out])
