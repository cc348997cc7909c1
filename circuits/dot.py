"""Graphviz DOT rendering of a Circuit (plain text, no dependencies)."""
from __future__ import annotations

from .circuit import Circuit
from .gates import Op

_LABEL = {Op.CONST0: "0", Op.CONST1: "1", Op.AND: "AND", Op.XOR: "XOR", Op.NOT: "NOT"}


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(c: Circuit, name: str = "circuit") -> str:
    """Inputs are boxes labelled bus[i], outputs extra ellipses labelled bus[i]."""
    label = {w: f"{bus}[{i}]" for bus, bits in c.inputs.items() for i, w in enumerate(bits)}
    lines = [f"digraph {_quote(name)} {{", "  rankdir=LR;"]
    for w in c.topological():
        op = c.gate(w).op
        if op is Op.INPUT:
            lines.append(f"  w{w} [label={_quote(label[w])}, shape=box];")
        else:
            shape = "plaintext" if op in (Op.CONST0, Op.CONST1) else "ellipse"
            lines.append(f"  w{w} [label={_quote(_LABEL[op])}, shape={shape}];")
    lines += [f"  w{u} -> w{v};" for u, v in c.graph.edges]
    outs = [(f"{bus}[{i}]", w) for bus, bits in c.outputs.items() for i, w in enumerate(bits)]
    for k, (text, w) in enumerate(outs):  # one node per output bit: wires may repeat
        lines.append(f"  o{k} [label={_quote(text)}, shape=doubleoctagon];")
        lines.append(f"  w{w} -> o{k};")
    lines.append("}")
    return "\n".join(lines) + "\n"
