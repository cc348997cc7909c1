"""Register allocation for wire labels: reuse the memory of dead wires.

A Linearised circuit numbers every wire once (1482 wires for tanh*), but only ~150 are live
at any step. Mapping wires to reusable slots shrinks the per-instance label table ~8x (less
memory per block, and the rows a step reads are still in cache). Each step's outputs get a
contiguous run of slots (first fit), so the step can still write them as one slice; a slot is
freed only after the last step that reads it, so no step overwrites its own operands.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def _first_fit(free: list[bool], g: int) -> int:
    """Start of the first run of g free slots, growing the table if there is none."""
    run = 0
    for i, f in enumerate(free):
        run = run + 1 if f else 0
        if run == g:
            return i - g + 1
    start = len(free) - run  # extend the trailing free run
    free.extend([True] * (start + g - len(free)))
    return start


def assign_slots(n_wires: int, fixed: Sequence[int], steps: Sequence[tuple[np.ndarray,
                 Iterable[np.ndarray]]], keep: Iterable[int]) -> tuple[np.ndarray, int]:
    """(slot of every wire, number of slots).

    fixed: wires present before the first step (inputs, constants), in slot order;
    steps: per step (its output wires, the operand wire arrays it reads);
    keep: wires that must survive to the end (the circuit outputs).
    """
    last = np.full(n_wires, -1)
    for k, (_, reads) in enumerate(steps):
        for r in reads:
            last[r] = k
    last[np.fromiter(keep, np.int64)] = len(steps)
    slot = np.full(n_wires, -1, np.int64)
    free = [False] * len(fixed)
    slot[list(fixed)] = np.arange(len(fixed))
    dies: dict[int, list[int]] = {}
    for w in fixed:
        dies.setdefault(int(last[w]), []).append(w)
    for k, (out, _) in enumerate(steps):
        for w in dies.pop(k - 1, ()):  # read for the last time by the previous step
            free[slot[w]] = True
        s = _first_fit(free, len(out))
        free[s:s + len(out)] = [False] * len(out)
        slot[out] = np.arange(s, s + len(out))
        for w in out:
            dies.setdefault(int(last[w]), []).append(int(w))
    return slot, len(free)
