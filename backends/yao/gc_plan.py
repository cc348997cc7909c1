"""A validated execution plan of a Linearised circuit, shared by garbler and evaluator.

Per step it precomputes how to read the operands: a basic slice (a view, no copy) when the
wire indices form an arithmetic progression, else an index array for np.take into scratch.
Validation (once per circuit) makes sure no wire is read before it is written, so a malformed
circuit cannot make either party touch uninitialised label memory.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from veil.circuits.gates import Op
from veil.circuits.linear import Linearised

from .gc_tweaks import gate_offsets

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
    out: slice                        # the step's outputs are a contiguous wire range
    a: Selector
    b: Selector | None = None
    ab: np.ndarray | None = None      # AND: a then b indices, gathered in one np.take
    gates: slice | None = None        # AND: the table rows gate_index covers
    offsets: np.ndarray | None = None  # AND: gc_tweaks.gate_offsets(gate_index)

    @property
    def width(self) -> int:
        return self.out.stop - self.out.start


@dataclass(frozen=True, eq=False)
class Plan:
    n_wires: int
    and_count: int
    steps: tuple[PlanStep, ...]
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    consts: tuple[tuple[int, int], ...]  # (wire, value) of the constant wires present
    max_and: int                          # widest AND step
    max_linear: int                       # widest XOR / NOT step


def _build(lin: Linearised) -> Plan:
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
    consts = tuple((w, v) for w, v in ((lin.const0, 0), (lin.const1, 1)) if w >= 0)
    for w, _ in consts:
        define(np.array([w]), "constant")
    steps, next_gate = [], 0
    for k, st in enumerate(lin.steps):
        g = len(st.out)
        o0 = int(st.out[0]) if g else 0
        if g == 0 or np.any(st.out != np.arange(o0, o0 + g)):
            raise ValueError(f"step {k}: outputs are not a non-empty contiguous range")
        read(st.a, f"step {k}")
        if st.op is Op.NOT:
            define(st.out, f"step {k}")
            steps.append(PlanStep(Op.NOT, slice(o0, o0 + g), _selector(st.a)))
            continue
        if st.op not in (Op.AND, Op.XOR) or len(st.a) != g or len(st.b) != g:
            raise ValueError(f"step {k}: malformed {st.op}")
        read(st.b, f"step {k}")
        define(st.out, f"step {k}")
        if st.op is Op.XOR:
            steps.append(PlanStep(Op.XOR, slice(o0, o0 + g), _selector(st.a), _selector(st.b)))
            continue
        if np.any(st.gate_index != np.arange(next_gate, next_gate + g)):
            raise ValueError(f"step {k}: AND gate indices are not the next {g} numbers")
        steps.append(PlanStep(
            Op.AND, slice(o0, o0 + g), _selector(st.a), _selector(st.b),
            ab=np.concatenate([st.a, st.b]).astype(np.intp),
            gates=slice(next_gate, next_gate + g), offsets=gate_offsets(st.gate_index)))
        next_gate += g
    if next_gate != lin.and_count:
        raise ValueError(f"and_count {lin.and_count} but {next_gate} AND gates scheduled")
    for name, idx in lin.outputs.items():
        read(idx, f"output {name!r}")
    widths = {op: max([s.width for s in steps if (s.op is Op.AND) == op] or [0])
              for op in (True, False)}
    return Plan(n, lin.and_count, tuple(steps),
                {k: np.asarray(v, np.intp) for k, v in lin.inputs.items()},
                {k: np.asarray(v, np.intp) for k, v in lin.outputs.items()},
                consts, widths[True], widths[False])


_CACHE: weakref.WeakKeyDictionary[Linearised, Plan] = weakref.WeakKeyDictionary()


def plan_for(lin: Linearised) -> Plan:
    """The (cached) plan of lin; raises ValueError if lin is malformed."""
    plan = _CACHE.get(lin)
    if plan is None:
        plan = _CACHE[lin] = _build(lin)
    return plan
