"""The execution plan of a Linearised circuit, shared by garbler and evaluator (cached).

Built once per circuit after validation (gc_validate.py): wires are mapped to reusable label
slots (gc_slots.py) and, per step, operands are read through a basic slice (a view, no copy)
when their slots form an arithmetic progression, else through an index array (np.take into
scratch). steps_for(n) cuts wide AND steps to the cache-friendly size for blocks of n.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from veil.circuits.gates import Op
from veil.circuits.linear import Linearised

from veil.backends.yao.gc.slots import assign_slots
from veil.backends.yao.gc.validate import validate

Selector = slice | np.ndarray


def _selector(idx: np.ndarray) -> Selector:
    if len(idx) == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    d = int(idx[1] - idx[0])
    if d > 0 and np.all(np.diff(idx) == d):
        return slice(int(idx[0]), int(idx[-1]) + 1, d)
    return np.asarray(idx, dtype=np.intp)


@dataclass(frozen=True, eq=False)
class PlanStep:
    op: Op
    out: slice                        # the step's outputs: a contiguous slot range
    a: Selector
    b: Selector | None = None
    ab: np.ndarray | None = None      # AND: a then b indices, gathered in one np.take
    gates: slice | None = None        # AND: the table rows gate_index covers

    @property
    def width(self) -> int:
        return self.out.stop - self.out.start


@dataclass(frozen=True, eq=False)
class Plan:
    n_slots: int                          # label slots per instance (gc_slots.py)
    and_count: int
    steps: tuple[PlanStep, ...]
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    consts: tuple[tuple[int, int], ...]  # (slot, value) of the constant wires present
    max_and: int                          # widest AND step
    max_linear: int                       # widest XOR / NOT step
    _split: dict[int, tuple[PlanStep, ...]] = field(default_factory=dict, repr=False)

    def steps_for(self, n: int, budget: int | None = None) -> tuple[PlanStep, ...]:
        """The steps for blocks of n instances, wide AND steps cut into independent parts of
        at most max(n, budget) gate-instances (AND_BUDGET unless given): the ~0.5 KB of
        buffers per gate-instance then stays in cache (half-gates: ~40 ns per AND garbled
        instead of ~60 for 19 gates x 4096)."""
        part = max(1, (AND_BUDGET if budget is None else budget) // n)
        if part not in self._split:
            self._split[part] = tuple(p for st in self.steps for p in _split_and(st, part))
        return self._split[part]

    def and_capacity(self, block: int, budget: int | None = None) -> int:
        """Gate-instances of the largest AND step of steps_for(n, budget), over all n <= block."""
        return min(self.max_and * block, max(block, AND_BUDGET if budget is None else budget))


AND_BUDGET = 4096  # best of 2048..16384 on a 2 MB-L2 Xeon (bench_garble.py --sweep)


def _split_and(st: PlanStep, part: int) -> list[PlanStep]:
    g = st.width
    if st.op is not Op.AND or g <= part:
        return [st]
    a, b = st.ab[:g], st.ab[g:]
    out = []
    for i in range(0, g, part):
        j = min(g, i + part)
        gates = slice(st.gates.start + i, st.gates.start + j)
        out.append(PlanStep(Op.AND, slice(st.out.start + i, st.out.start + j), _selector(a[i:j]),
                            _selector(b[i:j]), ab=np.concatenate([a[i:j], b[i:j]]),
                            gates=gates))
    return out


def _build(lin: Linearised) -> Plan:
    validate(lin)
    consts = [(w, v) for w, v in ((lin.const0, 0), (lin.const1, 1)) if w >= 0]
    fixed = [int(w) for idx in lin.inputs.values() for w in idx] + [w for w, _ in consts]
    slot, n_slots = assign_slots(
        lin.n_wires, fixed, [(st.out, (st.a, st.b)) for st in lin.steps],
        (int(w) for idx in lin.outputs.values() for w in idx))
    steps = []
    for st in lin.steps:
        out, a, b = slot[st.out], slot[st.a], slot[st.b]
        o = slice(int(out[0]), int(out[0]) + len(out))
        if st.op is Op.NOT:
            steps.append(PlanStep(Op.NOT, o, _selector(a)))
        elif st.op is Op.XOR:
            steps.append(PlanStep(Op.XOR, o, _selector(a), _selector(b)))
        else:
            g0 = int(st.gate_index[0])
            steps.append(PlanStep(Op.AND, o, _selector(a), _selector(b),
                                  ab=np.concatenate([a, b]).astype(np.intp),
                                  gates=slice(g0, g0 + len(out))))
    widths = {op: max([s.width for s in steps if (s.op is Op.AND) == op] or [0])
              for op in (True, False)}
    return Plan(n_slots, lin.and_count, tuple(steps),
                {k: slot[v].astype(np.intp) for k, v in lin.inputs.items()},
                {k: slot[v].astype(np.intp) for k, v in lin.outputs.items()},
                tuple((int(slot[w]), v) for w, v in consts), widths[True], widths[False])


_CACHE: weakref.WeakKeyDictionary[Linearised, Plan] = weakref.WeakKeyDictionary()


def plan_for(lin: Linearised) -> Plan:
    """The (cached) plan of lin; raises ValueError if lin is malformed."""
    plan = _CACHE.get(lin)
    if plan is None:
        plan = _CACHE[lin] = _build(lin)
    return plan
