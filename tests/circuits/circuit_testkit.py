"""Shared helpers for the circuit tests (imported as a sibling module)."""
from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from veil.circuits.builder import Builder
from veil.circuits.circuit import Circuit
from veil.circuits.evaluate import evaluate
from veil.circuits.gates import Op
from veil.circuits.linear import linearise


def build(fn: Callable, *widths: int) -> Circuit:
    """Circuit with inputs x0, x1, ... of the given widths and output 'z' = fn(b, *buses)
    (a bit list, or a single wire for predicates)."""
    b = Builder()
    buses = [b.input(f"x{i}", w) for i, w in enumerate(widths)]
    out = fn(b, *buses)
    b.output("z", [out] if isinstance(out, int) else out)
    return b.build()


def run(c: Circuit, *values, signed_out: bool = False) -> np.ndarray:
    """Evaluate output 'z' of a build() circuit on the value arrays of x0, x1, ..."""
    inputs = {f"x{i}": v for i, v in enumerate(values)}
    return evaluate(linearise(c), inputs, signed_outputs=("z",) if signed_out else ())["z"]


def domain(w: int, signed: bool) -> np.ndarray:
    return np.arange(-(1 << w - 1), 1 << w - 1) if signed else np.arange(1 << w)


def pairs(w: int, signed: bool, w2: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every (x, y) with x of width w and y of width w2 (default w)."""
    xs, ys = np.meshgrid(domain(w, signed), domain(w if w2 is None else w2, signed), indexing="ij")
    return xs.ravel(), ys.ravel()


def wrap(v, w: int, signed: bool):
    """Python-int (or int array) v reduced mod 2**w, read signed or unsigned."""
    m = 1 << w
    if isinstance(v, np.ndarray):
        r = v % m
        return np.where(r >= m // 2, r - m, r) if signed else r
    r = v % m
    return r - m if signed and r >= m // 2 else r


def slice_bits(values: list[int], i: int) -> int:
    """Bit i of every value, as one Python int whose bit t is instance t."""
    return int("".join(str((v >> i) & 1) for v in reversed(values)) or "0", 2)


def unslice(wires: list[int], n: int) -> list[int]:
    """Inverse of slice_bits over a bus: per-instance values from per-bit Python ints."""
    cols = [format(w, f"0{n}b")[::-1] for w in wires]
    return [sum(int(col[t]) << i for i, col in enumerate(cols)) for t in range(n)]


def naive_eval(c: Circuit, inputs: dict[str, list[int]]) -> dict[str, list[int]]:
    """Reference evaluator: walk the graph gate by gate in topological order.

    Bit-parallel over instances with Python ints (bit t of a wire value is
    instance t), which is independent of the numpy bit-slicing being tested.
    """
    n = len(next(iter(inputs.values()))) if inputs else 1
    full = (1 << n) - 1
    val: dict[int, int] = {}
    for name, bits in c.inputs.items():
        for i, w in enumerate(bits):
            val[w] = slice_bits(inputs[name], i)
    for w in c.topological():
        g = c.gate(w)
        if g.op is Op.INPUT:
            continue
        a = [val[x] for x in g.args]
        val[w] = {Op.CONST0: lambda: 0, Op.CONST1: lambda: full,
                  Op.NOT: lambda: a[0] ^ full, Op.AND: lambda: a[0] & a[1],
                  Op.XOR: lambda: a[0] ^ a[1]}[g.op]()
    return {name: unslice([val[w] for w in bits], n) for name, bits in c.outputs.items()}


def random_circuit(seed: int, n_in: int = 6, n_gates: int = 60, n_out: int = 6,
                   redundant: bool = True) -> Circuit:
    """A random DAG over two input buses.  With `redundant`, it also uses constants,
    repeated operands, double negations and duplicated gates, so passes have work."""
    rng = random.Random(seed)
    b = Builder()
    wires = b.input("p", n_in // 2) + b.input("q", n_in - n_in // 2)
    if redundant:
        wires += [b.const(0), b.const(1)]
    for _ in range(n_gates):
        kind = rng.random()
        x, y = rng.choice(wires), rng.choice(wires)
        if kind < 0.35:
            w = b.and_(x, y)
        elif kind < 0.75:
            w = b.xor(x, y)
        elif kind < 0.85:
            w = b.not_(x)
        elif redundant and kind < 0.92:  # the same gate again, operands swapped
            w = b.xor(y, x) if rng.random() < 0.5 else b.and_(y, x)
            b.xor(x, y) if rng.random() < 0.5 else b.and_(x, y)
        else:
            w = b.or_(x, y)
        wires.append(w)
    pool = wires[-max(n_out * 3, 1):] if not redundant else wires
    b.output("r", [rng.choice(pool) for _ in range(n_out)])
    b.output("s", [rng.choice(wires[-5:]) for _ in range(2)])
    return b.build()


def random_inputs(c: Circuit, n: int, seed: int = 0) -> dict[str, list[int]]:
    rng = random.Random(seed)
    return {name: [rng.getrandbits(len(bits)) if bits else 0 for _ in range(n)]
            for name, bits in c.inputs.items()}
