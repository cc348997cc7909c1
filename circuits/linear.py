"""Flatten a Circuit into the scheduled, densely numbered form backends execute."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .circuit import Circuit
from .gates import Op

def _frozen(values) -> np.ndarray:
    """A read-only int64 vector (Linearised is shared by backends; keep it immutable)."""
    arr = np.asarray(values, dtype=np.int64).reshape(-1)
    arr.flags.writeable = False
    return arr


_EMPTY = _frozen([])


@dataclass(frozen=True, eq=False)
class Step:
    """One vectorisable batch of independent gates: out[i] = a[i] op b[i].

    b is empty for NOT.  gate_index numbers AND gates 0..and_count-1 over the
    whole circuit (the garbling tweak); it is empty for XOR / NOT steps.
    """

    op: Op
    out: np.ndarray
    a: np.ndarray
    b: np.ndarray = field(default_factory=lambda: _EMPTY)
    gate_index: np.ndarray = field(default_factory=lambda: _EMPTY)

    def __len__(self) -> int:
        return len(self.out)


@dataclass(frozen=True, eq=False)
class Linearised:
    """Wires 0..n_wires-1: input buses first (bus order, LSB first), then
    CONST0, CONST1 (index -1 if absent), then gates in schedule order."""

    n_wires: int
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    const0: int
    const1: int
    steps: tuple[Step, ...]
    and_count: int

    @property
    def and_depth(self) -> int:
        return sum(s.op is Op.AND for s in self.steps)

    @property
    def gate_count(self) -> int:
        return sum(len(s) for s in self.steps)


def _levels(c: Circuit, live: set[int]) -> dict[int, tuple[int, int]]:
    """(AND level, linear sub-step) per live gate, as early as possible.

    An AND at level L runs in AND step L; an XOR/NOT at level L runs after it in
    sub-step 1 + the latest sub-step among its same-level operands.
    """
    key: dict[int, tuple[int, int]] = {}
    for w in c.topological():
        if w not in live:
            continue
        gate = c.gate(w)
        if not gate.args:
            key[w] = (0, 0)
            continue
        level = max(key[a][0] for a in gate.args)
        if gate.op is Op.AND:
            key[w] = (level + 1, 0)
        else:
            key[w] = (level, 1 + max(key[a][1] for a in gate.args if key[a][0] == level))
    return key


def linearise(c: Circuit) -> Linearised:
    """Schedule by AND level: per level, the XOR/NOT sub-steps, then one AND step.

    Gates that reach no output are not scheduled (inputs always keep their
    wires), so the number of AND steps equals c.counts()['and_depth'].
    """
    live = c.live()
    live.update(w for bits in c.inputs.values() for w in bits)
    key = _levels(c, live)

    index: dict[int, int] = {}
    for bits in c.inputs.values():
        for w in bits:
            index[w] = len(index)
    n_wires = len(index)
    consts = {Op.CONST0: -1, Op.CONST1: -1}
    for op in consts:  # duplicate constant nodes share one wire
        for w in sorted(live):
            if c.gate(w).op is op:
                if consts[op] < 0:
                    consts[op], n_wires = n_wires, n_wires + 1
                index[w] = consts[op]

    # Schedule key: AND step L is (L, 0, 0); linear sub-step s of level L is
    # (L, s, 0) for XOR and (L, s, 1) for NOT; sorting the keys gives the order.
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for w in sorted(live):
        op = c.gate(w).op
        if op in (Op.AND, Op.XOR, Op.NOT):
            groups[(*key[w], int(op is Op.NOT))].append(w)

    steps: list[Step] = []
    and_count = 0
    for k in sorted(groups):
        wires = groups[k]
        op = c.gate(wires[0]).op
        for w in wires:
            index[w], n_wires = n_wires, n_wires + 1
        out = _frozen([index[w] for w in wires])
        a = _frozen([index[c.gate(w).args[0]] for w in wires])
        if op is Op.NOT:
            steps.append(Step(op, out, a))
            continue
        bb = _frozen([index[c.gate(w).args[1]] for w in wires])
        gi = _EMPTY
        if op is Op.AND:
            gi = _frozen(range(and_count, and_count + len(wires)))
            and_count += len(wires)
        steps.append(Step(op, out, a, bb, gi))
    return Linearised(
        n_wires=n_wires,
        inputs={n: _frozen([index[w] for w in bits]) for n, bits in c.inputs.items()},
        outputs={n: _frozen([index[w] for w in bits]) for n, bits in c.outputs.items()},
        const0=consts[Op.CONST0], const1=consts[Op.CONST1],
        steps=tuple(steps), and_count=and_count)
