"""The evaluator's pass over one block of instances: it only ever holds one label per wire.

Half-gates evaluation with sa = lsb(A), sb = lsb(B) (the colours select the table rows):
    C = H(A, j) ^ sa*TG  ^  H(B, j') ^ sb*(TE ^ A)
XOR gates xor the labels, NOT gates copy them (the garbler flipped the zero-label instead).
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op

from .gc_plan import Plan, PlanStep
from .gc_scratch import Scratch, gather
from .gc_tweaks import step_tweaks
from .labels import colour_masks


def _and(st: PlanStep, W: np.ndarray, tab: np.ndarray, ctr: np.ndarray, s: Scratch) -> None:
    g, n = st.width, W.shape[1]
    x = s.view("x", 2 * g, n, 2)
    np.take(W, st.ab, axis=0, out=x, mode="clip")            # [A, B]
    t = step_tweaks(ctr, st.offsets, s.view("t", 2 * g, n, 2))
    h = s.hash.hash(x, t)                                    # [H(A, j), H(B, j')]
    m = colour_masks(x, s.view("m", 2 * g, n, 2))
    sa, sb = m[:g], m[g:]
    c, v = s.view("u", g, n, 2), s.view("v", g, n, 2)
    np.bitwise_xor(h[:g], h[g:], out=c)
    np.bitwise_and(tab[st.gates, 0], sa, out=v)
    c ^= v                                                   # WG ^ H(B)
    np.bitwise_xor(tab[st.gates, 1], x[:g], out=v)
    v &= sb
    np.bitwise_xor(c, v, out=W[st.out])                      # WG ^ WE


def evaluate_block(plan: Plan, s: Scratch, W: np.ndarray, tab: np.ndarray,
                   ctr: np.ndarray) -> None:
    """Fill W's gate wires with active labels; inputs and constants are set on entry."""
    for st in plan.steps:
        if st.op is Op.AND:
            _and(st, W, tab, ctr, s)
        elif st.op is Op.XOR:
            np.bitwise_xor(gather(W, st.a, s, "a"), gather(W, st.b, s, "b"), out=W[st.out])
        else:
            W[st.out] = gather(W, st.a, s, "a")
