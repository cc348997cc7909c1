"""Removing AND gates whose value matters only where other wires already have it.

On a care set (see care.py) an AND gate's value is observed at an input only if flipping it
there changes some output there. Anywhere else the gate may take any value, so it can be
replaced by a constant, by the XOR of its operands, or by a wire built before it, or the
XOR of a few (negated or not), that agrees with it wherever it is observed. The inputs of the
care set are evaluated independently (one bit each of a Python int per wire), so changing a
gate where it is not observed leaves every output unchanged at every input of the set: each
replacement is exact there, and the outputs are checked again after each. simplify_observed
repeats this, with the optimisation passes in between, until a round removes no AND.
"""
from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np

from .builder import Builder
from .care import pack_inputs
from .circuit import Circuit
from .gates import Gate, Op
from .passes import optimise

MAX_TERMS = 4           # longest XOR of earlier wires an AND is replaced by
RECENT = 160            # how many of the wires just before an AND that XOR may draw on

Replacement = tuple[tuple[int, ...], bool]     # positions XORed, negated or not


class _Sim:
    """The circuit in topological positions, every wire's bits over the care set."""

    def __init__(self, c: Circuit, care: Mapping[str, np.ndarray]) -> None:
        vec, self.ones = pack_inputs(c, care)
        self.order = c.topological()
        pos = {w: i for i, w in enumerate(self.order)}
        self.gates = [c.gate(w) for w in self.order]
        self.args = [tuple(pos[a] for a in g.args) for g in self.gates]
        self.readers: list[list[int]] = [[] for _ in self.order]
        for q, args in enumerate(self.args):
            for a in set(args):
                self.readers[a].append(q)
        self.outs = [pos[w] for bits in c.outputs.values() for w in bits]
        self.inputs = {pos[w]: v for w, v in vec.items()}
        self.sub: dict[int, Replacement] = {}
        self.v: list[int] = []
        for p in range(len(self.order)):
            self.v.append(self.value(p, {}))

    def value(self, p: int, over: dict[int, int]) -> int:
        """Wire p's bits from its operands' (those in `over` instead of the current ones)."""
        v = self.v

        def get(q: int) -> int:
            return over[q] if q in over else v[q]
        if p in self.sub:
            terms, neg = self.sub[p]
            x = self.ones if neg else 0
            for q in terms:
                x ^= get(q)
            return x
        op, a = self.gates[p].op, self.args[p]
        if op is Op.AND:
            return get(a[0]) & get(a[1])
        if op is Op.XOR:
            return get(a[0]) ^ get(a[1])
        if op is Op.NOT:
            return get(a[0]) ^ self.ones
        if op is Op.INPUT:
            return self.inputs[p]
        return self.ones if op is Op.CONST1 else 0

    def propagate(self, over: dict[int, int]) -> dict[int, int]:
        """The wires that change when those in `over` take those bits (its readers, theirs..)."""
        todo = sorted({r for q in over for r in self.readers[q]})
        heapq.heapify(todo)
        done = set()
        while todo:
            q = heapq.heappop(todo)
            if q in done:
                continue
            done.add(q)
            new = self.value(q, over)
            if new != self.v[q]:
                over[q] = new
                for r in self.readers[q]:
                    heapq.heappush(todo, r)
        return over

    def observed(self, p: int) -> int:
        """The inputs of the care set at which flipping wire p changes an output."""
        over = self.propagate({p: self.v[p] ^ self.ones})
        mask = 0
        for q in self.outs:
            if q in over:
                mask |= over[q] ^ self.v[q]
        return mask

    def replace(self, p: int, r: Replacement) -> None:
        self.sub[p] = r
        for q in r[0]:
            self.readers[q].append(p)
        new = self.value(p, {})
        if new != self.v[p]:
            for q, x in self.propagate({p: new}).items():
                self.v[q] = x


def _replacement(sim: _Sim, p: int, mask: int) -> Replacement | None:
    """A constant, the XOR of p's operands, one earlier wire, or the XOR of at most
    MAX_TERMS of the RECENT wires before p (a basis over GF(2) of their bits where p is
    observed), each maybe negated, that equals p wherever p is observed."""
    v, ones, target = sim.v, sim.ones, sim.v[p] & mask
    earlier = [q for q in range(p) if q not in sim.sub]
    simple = [((), False), ((), True), (sim.args[p], False), (sim.args[p], True)]
    simple += [((q,), neg) for q in earlier for neg in (False, True)]
    for terms, neg in simple:
        x = ones if neg else 0
        for q in terms:
            x ^= v[q]
        if not (x ^ target) & mask:
            return terms, neg
    basis: dict[int, tuple[int, int]] = {}
    wires = [None] + earlier[-RECENT:]              # None: the constant 1
    for i, q in enumerate(wires):
        rest, combo = _reduce(basis, (ones if q is None else v[q]) & mask, 1 << i)
        if rest:
            basis[rest.bit_length() - 1] = (rest, combo)
    rest, combo = _reduce(basis, target, 0)
    terms = [wires[i] for i in range(len(wires)) if combo >> i & 1]
    if rest or len(terms) - (None in terms) > MAX_TERMS:
        return None
    return tuple(q for q in terms if q is not None), None in terms


def _reduce(basis: dict[int, tuple[int, int]], x: int, combo: int) -> tuple[int, int]:
    while x:
        top = x.bit_length() - 1
        if top not in basis:
            break
        bx, bc = basis[top]
        x, combo = x ^ bx, combo ^ bc
    return x, combo


def _one_round(sim: _Sim) -> None:
    want = [sim.v[q] for q in sim.outs]
    for p in reversed(range(len(sim.order))):
        if sim.gates[p].op is not Op.AND:
            continue
        r = _replacement(sim, p, sim.observed(p))
        if r is not None:
            sim.replace(p, r)
            assert [sim.v[q] for q in sim.outs] == want


def _apply(c: Circuit, sim: _Sim) -> Circuit:
    b = Builder()
    new: dict[int, int] = {}
    for name, bits in c.inputs.items():
        new.update(zip(bits, b.input(name, len(bits))))
    for p, w in enumerate(sim.order):
        g = sim.gates[p]
        if g.op is Op.INPUT:
            continue
        if p in sim.sub:
            terms, neg = sim.sub[p]
            out = new[sim.order[terms[0]]] if terms else b.const(0)
            for q in terms[1:]:
                out = b.xor(out, new[sim.order[q]])
            new[w] = b.not_(out) if neg else out
        else:
            new[w] = b.emit(Gate(g.op, tuple(new[a] for a in g.args)))
    for name, bits in c.outputs.items():
        b.output(name, [new[w] for w in bits])
    return b.build()


def simplify_observed(c: Circuit, care: Mapping[str, np.ndarray], rounds: int = 4) -> Circuit:
    """A circuit with c's buses, equal to c on every input of `care` (bus -> values of one
    length), with AND gates replaced where they are not observed, until a round (at most
    `rounds`) removes none."""
    for _ in range(rounds):
        sim = _Sim(c, care)
        _one_round(sim)
        if not sim.sub:
            break
        c = optimise(_apply(c, sim))
    return c
