"""Structural checks of a Linearised circuit before anything is garbled or evaluated.

Every wire is written exactly once before it is read, every step is well formed and the AND
gates are numbered 0..and_count-1 in schedule order (the tweaks depend on it). So a malformed
circuit is rejected instead of making either party read uninitialised label memory or reuse
a tweak.
"""
from __future__ import annotations

import numpy as np

from veil.circuits.gates import Op
from veil.circuits.linear import Linearised


def validate(lin: Linearised) -> None:
    """Raise ValueError unless lin is well formed (see the module docstring)."""
    n = lin.n_wires
    written = np.zeros(n, bool)

    def define(idx: np.ndarray, what: str) -> None:
        if len(idx) and (idx.min() < 0 or idx.max() >= n or written[idx].any()
                         or len(np.unique(idx)) != len(idx)):
            raise ValueError(f"{what}: wires out of range or written twice")
        written[idx] = True

    def read(idx: np.ndarray, what: str) -> None:
        if len(idx) and (idx.min() < 0 or idx.max() >= n or not written[idx].all()):
            raise ValueError(f"{what}: reads a wire before it is written")

    for name, idx in lin.inputs.items():
        define(idx, f"input {name!r}")
    for w in (lin.const0, lin.const1):
        if w >= 0:
            define(np.array([w]), "constant")
    next_gate = 0
    for k, st in enumerate(lin.steps):
        g = len(st.out)
        o0 = int(st.out[0]) if g else 0
        if g == 0 or np.any(st.out != np.arange(o0, o0 + g)):
            raise ValueError(f"step {k}: outputs are not a non-empty contiguous range")
        if st.op not in (Op.AND, Op.XOR, Op.NOT) or len(st.a) != g or \
                len(st.b) != (0 if st.op is Op.NOT else g):
            raise ValueError(f"step {k}: malformed {st.op}")
        read(st.a, f"step {k}")
        read(st.b, f"step {k}")
        define(st.out, f"step {k}")
        if st.op is Op.AND:
            if np.any(st.gate_index != np.arange(next_gate, next_gate + g)):
                raise ValueError(f"step {k}: AND gate indices are not the next {g} numbers")
            next_gate += g
    if next_gate != lin.and_count:
        raise ValueError(f"and_count {lin.and_count} but {next_gate} AND gates scheduled")
    for name, idx in lin.outputs.items():
        read(idx, f"output {name!r}")
