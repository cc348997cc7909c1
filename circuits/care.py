"""Simplifying a circuit that only has to be right on a known set of inputs (a care set).

A block such as the activation's polynomials sees few distinct inputs (compact's: the 658
magnitudes up to the saturation bound); elsewhere its output is discarded. On those inputs
every wire is a vector of bits, and an AND gate whose vector is the XOR of a few vectors
built before it (the constant 1 included) can be that XOR instead: free gates, and exact on
every input of the care set. sweep_on_care finds such ANDs with a basis over GF(2) of the
wires' vectors (Gaussian elimination on Python ints), in topological order.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .builder import Builder
from .circuit import Circuit
from .gates import Gate, Op

MAX_TERMS = 8          # longest XOR an AND is replaced by


def pack_inputs(c: Circuit, care: Mapping[str, np.ndarray]) -> tuple[dict[int, int], int]:
    """Each input wire's bits over the care set as a Python int (bit i: the i-th input of
    the set), and the int with all of them set."""
    n = len(next(iter(care.values()))) if care else 0
    out = {}
    for name, bits in c.inputs.items():
        values = np.asarray(care[name], dtype=np.int64)
        if len(values) != n:
            raise ValueError(f"care set: bus {name!r} has {len(values)} values, not {n}")
        for i, w in enumerate(bits):
            packed = np.packbits(((values >> i) & 1).astype(np.uint8), bitorder="little")
            out[w] = int.from_bytes(packed.tobytes(), "little")
    return out, (1 << n) - 1


class _Span:
    """Vectors seen so far; each basis vector remembers the set of wires it is the XOR of."""

    def __init__(self) -> None:
        self.basis: dict[int, tuple[int, int]] = {}     # pivot bit -> (vector, wire set)
        self.wires: list[int] = []

    def reduce(self, v: int) -> tuple[int, int]:
        combo = 0
        while v:
            top = v.bit_length() - 1
            if top not in self.basis:
                break
            bv, bc = self.basis[top]
            v, combo = v ^ bv, combo ^ bc
        return v, combo

    def add(self, wire: int, v: int) -> None:
        rest, combo = self.reduce(v)
        if rest:
            self.basis[rest.bit_length() - 1] = (rest, combo ^ (1 << len(self.wires)))
            self.wires.append(wire)

    def members(self, combo: int) -> list[int]:
        return [self.wires[i] for i in range(len(self.wires)) if combo >> i & 1]


def sweep_on_care(c: Circuit, care: Mapping[str, np.ndarray]) -> Circuit:
    """A circuit with c's buses that equals c on every input of `care` (bus -> values, all
    of one length), each AND that is the XOR of at most MAX_TERMS earlier wires there
    replaced by that XOR."""
    vec, ones = pack_inputs(c, care)
    b = Builder()
    new: dict[int, int] = {}
    for name, bits in c.inputs.items():
        new.update(zip(bits, b.input(name, len(bits))))
    span = _Span()
    span.add(b.const(1), ones)
    for old, w in new.items():
        span.add(w, vec[old])
    for w in c.topological():
        g = c.gate(w)
        if g.op is Op.INPUT:
            continue
        a = [vec[x] for x in g.args]
        v = {Op.AND: lambda: a[0] & a[1], Op.XOR: lambda: a[0] ^ a[1],
             Op.NOT: lambda: a[0] ^ ones, Op.CONST0: lambda: 0, Op.CONST1: lambda: ones}[g.op]()
        vec[w] = v
        if g.op is Op.AND:
            rest, combo = span.reduce(v)
            terms = span.members(combo) if not rest else []
            if not rest and len(terms) <= MAX_TERMS:
                new[w] = _xor_all(b, terms)
                continue
        new[w] = b.emit(Gate(g.op, tuple(new[x] for x in g.args)))
        span.add(new[w], v)
    for name, bits in c.outputs.items():
        b.output(name, [new[w] for w in bits])
    return b.build()


def _xor_all(b: Builder, wires: list[int]) -> int:
    if not wires:
        return b.const(0)
    out = wires[0]
    for w in wires[1:]:
        out = b.xor(out, w)
    return out
