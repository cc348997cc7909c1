"""The circuit IR: a DAG of gates plus named input and output buses."""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from veil.util.errors import CircuitError  # an IR invariant does not hold

from .gates import ARITY, Gate, Op


@dataclass(eq=False)
class Circuit:
    """A boolean circuit.

    graph: node = int wire id, attribute ``gate`` = Gate, one edge from each
    operand to the gate reading it.  inputs / outputs: bus name -> wire ids,
    least significant bit first; dict order is bus order.  An output wire may be
    any wire (an input, a constant) and may repeat.
    """

    graph: nx.DiGraph
    inputs: dict[str, list[int]] = field(default_factory=dict)
    outputs: dict[str, list[int]] = field(default_factory=dict)

    def gate(self, wire: int) -> Gate:
        return self.graph.nodes[wire]["gate"]

    def topological(self) -> list[int]:
        """Wires in an order where every operand precedes its readers."""
        gates = dict(self.graph.nodes(data="gate"))
        order = sorted(gates)
        # Builder numbers wires in creation order, which is already topological.
        if all(a < w for w in order for a in gates[w].args):
            return order
        return list(nx.topological_sort(self.graph))

    def input_widths(self) -> dict[str, int]:
        return {name: len(bits) for name, bits in self.inputs.items()}

    def output_widths(self) -> dict[str, int]:
        return {name: len(bits) for name, bits in self.outputs.items()}

    def verify(self) -> None:
        """Raise CircuitError unless every IR invariant holds."""
        g = self.graph
        for wire, data in g.nodes(data=True):
            gate = data.get("gate")
            if not isinstance(gate, Gate):
                raise CircuitError(f"wire {wire}: no Gate attribute")
            if len(gate.args) != ARITY[gate.op]:
                raise CircuitError(
                    f"wire {wire}: {gate.op.name} takes {ARITY[gate.op]} operands, got {len(gate.args)}")
            missing = [a for a in gate.args if a not in g]
            if missing:
                raise CircuitError(f"wire {wire}: operands {missing} do not exist")
            preds = set(g.predecessors(wire))
            if preds != set(gate.args):
                raise CircuitError(
                    f"wire {wire}: edges from {sorted(preds)} do not match args {gate.args}")
        if not nx.is_directed_acyclic_graph(g):
            cycle = [u for u, _ in nx.find_cycle(g)]
            raise CircuitError(f"graph has a cycle through wires {cycle}")
        self._verify_buses()

    def _verify_buses(self) -> None:
        g = self.graph
        seen: dict[int, str] = {}
        for name, bits in self.inputs.items():
            for i, w in enumerate(bits):
                if w not in g or self.gate(w).op is not Op.INPUT:
                    raise CircuitError(f"input {name}[{i}]: wire {w} is not an INPUT gate")
                if w in seen:
                    raise CircuitError(f"input {name}[{i}]: wire {w} already used by {seen[w]}")
                seen[w] = f"{name}[{i}]"
        stray = [w for w, d in g.nodes(data=True) if d["gate"].op is Op.INPUT and w not in seen]
        if stray:
            raise CircuitError(f"INPUT wires {stray} belong to no input bus")
        for name, bits in self.outputs.items():
            for i, w in enumerate(bits):
                if w not in g:
                    raise CircuitError(f"output {name}[{i}]: wire {w} does not exist")

    def live(self) -> set[int]:
        """Wires that reach some output (one reverse traversal)."""
        seen = {w for bits in self.outputs.values() for w in bits}
        stack = list(seen)
        while stack:
            for a in self.gate(stack.pop()).args:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
        return seen

    def and_depths(self) -> dict[int, int]:
        """Max number of AND gates on any path ending at each wire."""
        depth: dict[int, int] = {}
        for w in self.topological():
            gate = self.gate(w)
            d = max((depth[a] for a in gate.args), default=0)
            depth[w] = d + (gate.op is Op.AND)
        return depth

    def counts(self) -> dict[str, int]:
        """Gate counts, node count ('wires') and AND depth (over output paths)."""
        ops = [d["gate"].op for _, d in self.graph.nodes(data=True)]
        depth = self.and_depths()
        out_wires = [w for bits in self.outputs.values() for w in bits]
        return {
            "AND": ops.count(Op.AND),
            "XOR": ops.count(Op.XOR),
            "NOT": ops.count(Op.NOT),
            "wires": len(ops),
            "and_depth": max((depth[w] for w in out_wires), default=0),
        }
