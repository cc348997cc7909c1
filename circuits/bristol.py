"""Bristol Fashion import/export (the format of the public MPC-Circuits collection).

Layout: input buses on wires 0.. in bus order, output buses on the last wires,
least significant bit on the lowest-numbered wire of each bus.
"""
from __future__ import annotations

from collections.abc import Sequence

from .builder import Builder
from .circuit import Circuit, CircuitError
from .gates import CONST_VALUE, Op

_NAMES = {Op.AND: "AND", Op.XOR: "XOR", Op.NOT: "INV"}


def to_bristol(c: Circuit) -> str:
    """Bristol Fashion text.  Every output bit needs its own final wire, so
    outputs that are inputs, constants or repeats get EQW / EQ gates."""
    out_bits = [w for bits in c.outputs.values() for w in bits]
    n_in = sum(len(bits) for bits in c.inputs.values())
    order = [w for w in c.topological() if c.gate(w).op is not Op.INPUT]
    used = {a for w in order for a in c.gate(w).args}
    consts = [w for w in order if c.gate(w).op in CONST_VALUE and w in used]
    gates = [w for w in order if c.gate(w).op in _NAMES]
    owner: dict[int, int] = {}  # gate -> output position it writes directly
    for pos, w in enumerate(out_bits):
        if w not in owner and c.gate(w).op in _NAMES:
            owner[w] = pos
    first_out = n_in + len(consts) + len(gates) - len(owner)
    n_wires = first_out + len(out_bits)

    wire = {w: i for i, w in enumerate(w for bits in c.inputs.values() for w in bits)}
    nxt = n_in
    lines: list[str] = []
    for w in consts + gates:
        if w in owner:
            wire[w] = first_out + owner[w]
        else:
            wire[w], nxt = nxt, nxt + 1
        gate = c.gate(w)
        if gate.op in CONST_VALUE:
            lines.append(f"1 1 {CONST_VALUE[gate.op]} {wire[w]} EQ")
        else:
            args = " ".join(str(wire[a]) for a in gate.args)
            lines.append(f"{len(gate.args)} 1 {args} {wire[w]} {_NAMES[gate.op]}")
    for pos, w in enumerate(out_bits):
        if owner.get(w) == pos:
            continue
        op = c.gate(w).op
        if op in CONST_VALUE:
            lines.append(f"1 1 {CONST_VALUE[op]} {first_out + pos} EQ")
        else:
            lines.append(f"1 1 {wire[w]} {first_out + pos} EQW")
    head = [f"{len(lines)} {n_wires}",
            " ".join(map(str, [len(c.inputs), *c.input_widths().values()])),
            " ".join(map(str, [len(c.outputs), *c.output_widths().values()])), ""]
    return "\n".join(head + lines) + "\n"


def _ints(line: str, what: str) -> list[int]:
    try:
        values = [int(t) for t in line.split()]
    except ValueError:
        raise CircuitError(f"bad {what} line: {line!r}") from None
    if not values or len(values) != values[0] + 1:
        raise CircuitError(f"bad {what} line: {line!r}")
    return values[1:]


def from_bristol(text: str, input_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None) -> Circuit:
    """Parse Bristol Fashion; buses are named in0.., out0.. unless names are given."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 3:
        raise CircuitError("truncated Bristol header")
    n_gates, n_wires = map(int, lines[0].split())
    in_widths, out_widths = _ints(lines[1], "input"), _ints(lines[2], "output")
    if len(lines) - 3 != n_gates:
        raise CircuitError(f"header promises {n_gates} gates, found {len(lines) - 3}")
    in_names = list(input_names or [f"in{i}" for i in range(len(in_widths))])
    out_names = list(output_names or [f"out{i}" for i in range(len(out_widths))])
    b = Builder()
    wire: dict[int, int] = {}
    for name, width in zip(in_names, in_widths, strict=True):
        wire.update(zip(range(len(wire), len(wire) + width), b.input(name, width)))
    for ln in lines[3:]:
        tok = ln.split()
        kind, n_args = tok[-1], int(tok[0])
        args, out = [int(t) for t in tok[2:2 + n_args]], int(tok[2 + n_args])
        try:
            if kind == "EQ":
                wire[out] = b.const(args[0])
            elif kind == "EQW":
                wire[out] = wire[args[0]]
            elif kind == "INV":
                wire[out] = b.not_(wire[args[0]])
            elif kind in ("AND", "XOR"):
                x, y = wire[args[0]], wire[args[1]]
                wire[out] = b.and_(x, y) if kind == "AND" else b.xor(x, y)
            else:
                raise CircuitError(f"unsupported Bristol gate {kind!r}")
        except KeyError as e:
            raise CircuitError(f"gate {ln!r} reads unassigned wire {e.args[0]}") from None
    pos = n_wires - sum(out_widths)
    for name, width in zip(out_names, out_widths, strict=True):
        missing = [w for w in range(pos, pos + width) if w not in wire]
        if missing:
            raise CircuitError(f"output wires {missing} are never assigned")
        b.output(name, [wire[w] for w in range(pos, pos + width)])
        pos += width
    return b.build()
