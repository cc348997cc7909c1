"""Optimisation passes.  Each rebuilds the circuit gate by gate in topological
order, keeps every bus, preserves the function and returns a verified Circuit.
"""
from __future__ import annotations

from collections.abc import Callable

from .builder import Builder
from .circuit import Circuit
from .gates import COMMUTATIVE, Gate, Op

# Given the builder of the new circuit and a gate whose operands are already
# new wires, emit whatever computes it and return its wire.
Rewrite = Callable[[Builder, Gate], int]


def rebuild(c: Circuit, rewrite: Rewrite, keep: set[int] | None = None) -> Circuit:
    """Copy c through `rewrite`; gates outside `keep` (when given) are dropped."""
    b = Builder()
    new: dict[int, int] = {}
    for name, bits in c.inputs.items():
        new.update(zip(bits, b.input(name, len(bits))))
    for w in c.topological():
        gate = c.gate(w)
        if gate.op is Op.INPUT or (keep is not None and w not in keep):
            continue
        new[w] = rewrite(b, Gate(gate.op, tuple(new[a] for a in gate.args)))
    for name, bits in c.outputs.items():
        b.output(name, [new[w] for w in bits])
    return b.build()


def _negation_of(b: Builder, w: int) -> int | None:
    gate = b.gate(w)
    return gate.args[0] if gate.op is Op.NOT else None


def _fold(b: Builder, g: Gate) -> int:
    if g.op is Op.NOT:
        (a,) = g.args
        k = b.known(a)
        if k is not None:
            return b.const(1 - k)
        inner = _negation_of(b, a)
        return inner if inner is not None else b.not_(a)
    if g.op not in COMMUTATIVE:
        return b.emit(g)
    x, y = g.args
    if b.known(x) is not None:  # put a constant second
        x, y = y, x
    kx, ky = b.known(x), b.known(y)
    if kx is not None:  # both constant
        return b.const(kx & ky if g.op is Op.AND else kx ^ ky)
    if ky is not None:
        if g.op is Op.AND:
            return x if ky else b.const(0)
        return _fold(b, Gate(Op.NOT, (x,))) if ky else x
    if x == y:
        return x if g.op is Op.AND else b.const(0)
    if _negation_of(b, x) == y or _negation_of(b, y) == x:
        return b.const(0 if g.op is Op.AND else 1)
    nx_, ny = _negation_of(b, x), _negation_of(b, y)
    if g.op is Op.XOR and nx_ is not None and ny is not None:  # ~a ^ ~b = a ^ b
        return _fold(b, Gate(Op.XOR, (nx_, ny)))
    return b.emit(g)


def fold_constants(c: Circuit) -> Circuit:
    """Local algebraic simplification: x&0=0, x&1=x, x^0=x, x^1=~x, ~~x=x, ~k,
    x&x=x, x^x=0, x&~x=0, x^~x=1, ~a^~b=a^b."""
    return rebuild(c, _fold)


def remove_dead(c: Circuit) -> Circuit:
    """Drop gates that reach no output (inputs always stay: they are buses)."""
    return rebuild(c, Builder.emit, keep=c.live())


def hash_structurally(c: Circuit) -> Circuit:
    """Merge gates with the same op and operands (AND/XOR up to operand order)."""
    table: dict[tuple[Op, tuple[int, ...]], int] = {}

    def rewrite(b: Builder, g: Gate) -> int:
        args = tuple(sorted(g.args)) if g.op in COMMUTATIVE else g.args
        key = (g.op, args)
        if key not in table:
            table[key] = b.emit(Gate(g.op, args))
        return table[key]

    return rebuild(c, rewrite)


def _size(c: Circuit) -> tuple[int, int]:
    return c.graph.number_of_nodes(), c.graph.number_of_edges()


def optimise(c: Circuit, max_rounds: int = 50) -> Circuit:
    """fold_constants, hash_structurally, remove_dead until nothing shrinks."""
    for _ in range(max_rounds):
        nxt = remove_dead(hash_structurally(fold_constants(c)))
        if _size(nxt) == _size(c):
            return nxt
        c = nxt
    return c
