"""The small API every circuit builder is written against, plus pure wiring helpers.

The builder emits exactly the gates it is asked for: no constant folding and no
structural hashing (see passes.py).  Bit vectors are lists of wire ids, LSB first.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx

from .circuit import Circuit, CircuitError
from .gates import CONST_VALUE, Gate, Op

Bits = list[int]


class Builder:
    def __init__(self) -> None:
        self._gates: list[Gate] = []
        self._inputs: dict[str, Bits] = {}
        self._outputs: dict[str, Bits] = {}
        self._consts: dict[int, int] = {}

    def _emit(self, gate: Gate) -> int:
        for a in gate.args:
            if not 0 <= a < len(self._gates):
                raise CircuitError(f"{gate.op.name}: operand {a} does not exist")
        self._gates.append(gate)
        return len(self._gates) - 1

    def input(self, name: str, width: int) -> Bits:
        if name in self._inputs:
            raise CircuitError(f"input bus {name!r} declared twice")
        bits = [self._emit(Gate(Op.INPUT)) for _ in range(width)]
        self._inputs[name] = bits
        return list(bits)

    def const(self, bit: int) -> int:
        """The shared CONST0 / CONST1 wire."""
        bit = int(bool(bit))
        if bit not in self._consts:
            self._consts[bit] = self._emit(Gate(Op.CONST1 if bit else Op.CONST0))
        return self._consts[bit]

    def and_(self, a: int, b: int) -> int:
        return self._emit(Gate(Op.AND, (a, b)))

    def xor(self, a: int, b: int) -> int:
        return self._emit(Gate(Op.XOR, (a, b)))

    def not_(self, a: int) -> int:
        return self._emit(Gate(Op.NOT, (a,)))

    def or_(self, a: int, b: int) -> int:
        """a | b as a ^ b ^ (a & b): one AND, free XORs."""
        return self.xor(self.xor(a, b), self.and_(a, b))

    def emit(self, gate: Gate) -> int:
        """Emit any non-INPUT gate; constants map to the shared constant wires."""
        if gate.op is Op.INPUT:
            raise CircuitError("declare inputs with input()")
        if gate.op in CONST_VALUE:
            return self.const(CONST_VALUE[gate.op])
        return self._emit(gate)

    def gate(self, wire: int) -> Gate:
        return self._gates[wire]

    def count(self, op: Op) -> int:
        """How many gates of this op have been emitted so far (dead ones included)."""
        return sum(g.op is op for g in self._gates)

    def known(self, wire: int) -> int | None:
        """The value of a constant wire, None for any other wire (a query, not a fold)."""
        return CONST_VALUE.get(self._gates[wire].op)

    def inline(self, c: Circuit, inputs: Mapping[str, Sequence[int]]) -> dict[str, Bits]:
        """Emit c's gates here with its input buses wired to `inputs`; c's output buses."""
        new: dict[int, int] = {}
        for name, bits in c.inputs.items():
            if len(inputs[name]) != len(bits):
                raise CircuitError(f"inline: bus {name!r} has {len(bits)} bits, "
                                   f"got {len(inputs[name])} wires")
            new.update(zip(bits, inputs[name]))
        for w in c.topological():
            gate = c.gate(w)
            if gate.op is not Op.INPUT:
                new[w] = self.emit(Gate(gate.op, tuple(new[a] for a in gate.args)))
        return {name: [new[w] for w in bits] for name, bits in c.outputs.items()}

    def output(self, name: str, bits: Sequence[int]) -> None:
        if name in self._outputs:
            raise CircuitError(f"output bus {name!r} declared twice")
        self._outputs[name] = [int(w) for w in bits]

    def build(self) -> Circuit:
        """A verified snapshot of what has been built so far."""
        g = nx.DiGraph()
        g.add_nodes_from((w, {"gate": gate}) for w, gate in enumerate(self._gates))
        g.add_edges_from((a, w) for w, gate in enumerate(self._gates) for a in set(gate.args))
        c = Circuit(g, {k: list(v) for k, v in self._inputs.items()},
                    {k: list(v) for k, v in self._outputs.items()})
        c.verify()
        return c


# --- pure wiring: no gates ---------------------------------------------------

def const_bits(b: Builder, value: int, width: int) -> Bits:
    """value mod 2**width (two's complement for negatives) as constant wires."""
    return [b.const((value >> i) & 1) for i in range(width)]


def sign_extend(bits: Sequence[int], width: int) -> Bits:
    """Widen to `width` by repeating the MSB (width >= len(bits) >= 1)."""
    if not bits or width < len(bits):
        raise ValueError(f"cannot sign-extend {len(bits)} bits to {width}")
    return list(bits) + [bits[-1]] * (width - len(bits))


def zero_extend(b: Builder, bits: Sequence[int], width: int) -> Bits:
    """Widen to `width` with CONST0 wires (width >= len(bits))."""
    if width < len(bits):
        raise ValueError(f"cannot zero-extend {len(bits)} bits to {width}")
    return list(bits) + [b.const(0)] * (width - len(bits))


def extend(b: Builder, bits: Sequence[int], width: int, signed: bool) -> Bits:
    """Sign- or zero-extend per `signed` (an empty bus is the value 0 either way)."""
    return sign_extend(bits, width) if signed and bits else zero_extend(b, bits, width)


def shift_right(bits: Sequence[int], k: int, signed: bool) -> Bits:
    """Exactly floor(x / 2**k) by dropping the k low bits; the result is narrower.

    Shifting out every bit leaves [msb] (0 or -1) if signed, else [] (0).
    """
    if k < 0:
        raise ValueError("negative shift")
    if k < len(bits):
        return list(bits[k:])
    return [bits[-1]] if signed and bits else []


def shift_left(b: Builder, bits: Sequence[int], k: int) -> Bits:
    """Exactly x * 2**k: k CONST0 wires below, the result is k bits wider."""
    if k < 0:
        raise ValueError("negative shift")
    return [b.const(0)] * k + list(bits)


def truncate(bits: Sequence[int], width: int) -> Bits:
    """x mod 2**width: keep the `width` low bits (width <= len(bits))."""
    if not 0 <= width <= len(bits):
        raise ValueError(f"cannot truncate {len(bits)} bits to {width}")
    return list(bits[:width])
