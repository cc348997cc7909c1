"""How long the worst specs the compile budgets admit take to compile (compiler/budget.py).

    python bench/compile_budget.py [--kappa 128] [--shape NAME ...] [--memory]

For each shape of activation, the largest one the budgets admit (found by growing it until
the checker refuses it) is compiled as a published spec would be on the cloud
(`compile_published`, 2048-bit keys): printed are its size, the estimated ANDs it was
charged, the ANDs synthesis actually emitted (bare + masked, before optimisation), the
seconds of CPU (and of wall time) to compile it and compute its structure digest, as the
cloud does for every publish, and with --memory the peak memory traced. The shapes:

- segments: tanh*'s first quadratic (varied) over as many segments as fit, in fix<16,12>;
- degree:   one segment of as high a degree as fits, coefficient frac 14, in fix<16,12>;
- precision: one segment of degree 6 with coefficients as precise as fit, in fix<16,12>;
- range:    one linear segment over as many magnitudes as the range analysis admits
            (bound 1 in fix<f+2, f>, inputs and weights with f/2 + 1 fractional bits);
- model:    two different activations of the segments shape, each just within the
            per-activation budget, as the model budget allows (two hidden layers);
- deep:     the degree shape on 31 hidden layers (32 dense layers, the most allowed), which
            share one circuit but each carry it in the program and its structure digest.
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

from veil.circuits.gates import Op
from veil.compiler import budget
from veil.compiler.check import check, load_prelude
from veil.compiler.circuit_estimate import estimated_ands
from veil.compiler.digest import structure_digest
from veil.compiler.errors import SpecError
from veil.compiler.parser import parse_text
from veil.compiler.synthesis import activation_circuit, masked_activation_circuit
from veil.models.catalog import compile_published

MODEL = """model worst {{
    patch 5 -> 1 stride 1
    normalise p -> (p / 255 - 0.5) / 0.2
    input       fix<{l_in}, {f_in}>
    activation  fix<{l_a}, {f_a}>
    weight      fix<{l_in}, {f_in}>
    bias        fix<{l_b}, {f_b}>
    coefficient frac {f_c}
    weights random seed 1
    dense 25 -> 8 {first}
    dense 8 -> 8 {second}
{more}    dense 8 -> 1
}}
"""
FORMATS = dict(l_a=16, f_a=12, f_c=14, l_in=12, f_in=9, l_b=24, f_b=17, more="")


def activation(name: str, bounds: list[float], polys: list[str]) -> str:
    segs = "".join(f"    |x| <= {b:.9g} : {p}\n" for b, p in zip(bounds, polys))
    return f"activation {name} odd saturate 1 {{\n{segs}}}\n"


def segments(n: int, name: str = "a", salt: int = 0) -> tuple[str, dict]:
    """tanh*'s first quadratic over n segments, each with its own coefficients (segments
    alike would be merged by the optimiser: cheaper than the budget assumes)."""
    polys = [f"-0.{2716 + 37 * k + salt} * x^2 + x + 0.0{16 + k}" for k in range(n)]
    return activation(name, [1.52 * (k + 1) / n for k in range(n)], polys), FORMATS


def polynomial(d: int, f_c: int) -> tuple[str, dict]:
    """One segment of degree d, coefficients with every decimal digit, values below 1."""
    poly = " + ".join(f"{0.5 / d:.15f} * x^{j}" for j in range(1, d + 1))
    return activation("a", [0.99], [poly]), dict(FORMATS, f_c=f_c)


def magnitude(f_a: int) -> tuple[str, dict]:
    """Magnitudes up to 2^f_a (bound 1); the inputs and weights have the fractional bits."""
    f_in = f_a // 2 + 1
    return (activation("a", [1.0], ["0.5 * x"]),
            dict(FORMATS, l_a=f_a + 2, f_a=f_a, l_in=f_in + 2, f_in=f_in, l_b=2 * f_in + 7,
                 f_b=2 * f_in))


def spec(shape, size: int) -> str:
    act, fmt = shape(size)
    return act + MODEL.format(first="a", second="a", **fmt)


def model_spec(n: int) -> str:
    a, fmt = segments(n, "a")
    b, _ = segments(n, "b", salt=1)
    return a + b + MODEL.format(first="a", second="b", **fmt)


def deep_spec(d: int) -> str:
    """30 more hidden layers of 8 -> 8, all sharing layer 2's circuit."""
    act, fmt = polynomial(d, 14)
    more = "    dense 8 -> 8 a\n" * (budget.MAX_DENSE_LAYERS - 3)
    return act + MODEL.format(first="a", second="a", **dict(fmt, more=more))


def refusal(text: str) -> str | None:
    try:
        check(parse_text(text, "<worst>"), load_prelude())
        return None
    except SpecError as e:
        return e.message


def largest(make, sizes) -> tuple[int, str]:
    """The largest size the checker admits, and why the next one is refused."""
    best, why = None, "the largest size tried"
    for size in sizes:
        why = refusal(make(size))
        if why is not None:
            break
        best = size
    if best is None:
        raise SystemExit(f"even the smallest is refused: {why}")
    return best, why


def measure(label: str, text: str, kappa: int, memory: bool) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    program = compile_published(text, 2048, kappa, "<worst>")
    structure_digest(program)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tables = {s.table for s in program.activations}
    estimated = sum(estimated_ands(t, kappa) for t in tables)
    raw = sum(_ands(activation_circuit(t)) + _ands(masked_activation_circuit(t, kappa))
              for t in tables)
    line = (f"{label:<34} {len(tables)} circuit(s): {estimated:5} ANDs estimated, {raw:5} "
            f"synthesised; {cpu:4.1f} s CPU ({wall:4.1f} s wall)")
    if memory:                              # tracing slows Python down: a second compile
        tracemalloc.start()
        compile_published(text, 2048, kappa, "<worst>")
        line += f", {tracemalloc.get_traced_memory()[1] / 1e6:.0f} MB traced"
        tracemalloc.stop()
    print(line)


def _ands(circuit) -> int:
    return sum(1 for _, gate in circuit.graph.nodes(data="gate") if gate.op is Op.AND)


SHAPES = {
    "segments": lambda: ("segments", lambda n: spec(lambda k: segments(k), n),
                         range(2, budget.MAX_SEGMENTS + 1)),
    "degree": lambda: ("degree", lambda d: spec(lambda k: polynomial(k, 14), d),
                       range(1, budget.MAX_DEGREE + 1)),
    "precision": lambda: ("coefficient frac", lambda f: spec(lambda k: polynomial(6, k), f),
                          range(1, 62)),
    "range": lambda: ("activation frac", lambda f: spec(magnitude, f), range(8, 40)),
    "model": lambda: ("segments per activation", model_spec, range(2, budget.MAX_SEGMENTS + 1)),
    "deep": lambda: ("degree", deep_spec, range(1, budget.MAX_DEGREE + 1)),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kappa", type=int, default=budget.KAPPA_CHARGED)
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES))
    ap.add_argument("--memory", action="store_true", help="also the peak memory traced")
    args = ap.parse_args()
    print(f"budgets: {budget.MAX_ACTIVATION_ANDS} ANDs per activation, {budget.MAX_MODEL_ANDS} "
          f"per model, {budget.MAX_RANGE_CELLS} range cells; kappa {args.kappa}")
    for name in args.shape or list(SHAPES):
        what, make, sizes = SHAPES[name]()
        size, why = largest(make, sizes)
        measure(f"{name}: {what} {size}", make(size), args.kappa, args.memory)
        print(f"    (one more: {why})")


if __name__ == "__main__":
    main()
