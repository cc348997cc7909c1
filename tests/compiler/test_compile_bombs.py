"""Compile bombs: specs of a few kilobytes that cost the old compiler seconds to minutes of
CPU or gigabytes, each now refused by a limit of compiler/budget.py at its position, in one
line, within a small fraction of a second of CPU and before anything big is allocated. How
the old compiler fared with each (on this 2-core machine, shared with other jobs) is in the
commit that added this file; the worst spec the budgets admit is measured by
bench/compile_budget.py (docs/service.md, "Publishing")."""
from __future__ import annotations

import time
import tracemalloc

import pytest

from veil.compiler import driver
from veil.compiler.errors import SpecError
from veil.models.catalog import compile_published

# A refusal happens before lowering (checked by a spy, below); the CPU bound is only a loose
# guard (parsing 16 KiB takes about 0.25 s; the old compiler's cheapest bomb took 12 s), loose
# enough that a loaded machine does not fail it.
CPU_SECONDS = 2.0


def model(first: str = "a", second: str = "a", act: str = "fix<16, 12>", frac: int = 9,
          io: str = "fix<12, 9>", more: str = "") -> str:
    return f"""model bomb {{
    patch 5 -> 1 stride 1
    normalise p -> (p / 255 - 0.5) / 0.2
    input       {io}
    activation  {act}
    weight      {io}
    bias        fix<24, 17>
    coefficient frac {frac}
    weights random seed 1
    dense 25 -> 8 {first}
    dense 8 -> 8 {second}
{more}    dense 8 -> 1
}}
"""


def activation(name: str, segments: list[tuple[float, str]]) -> str:
    body = "".join(f"    |x| <= {b:.6f} : {p}\n" for b, p in segments)
    return f"activation {name} odd saturate 1 {{\n{body}}}\n"


def quadratics(name: str, n: int, top: float = 1.52, salt: int = 0) -> str:
    """tanh*'s first quadratic over n segments, each with its own coefficients (no two
    segment circuits alike, so the optimiser cannot merge them)."""
    return activation(name, [(top * (k + 1) / n, f"-0.{2716 + 37 * k + salt} * x^2 + x + "
                                                  f"0.0{16 + k}") for k in range(n)])


def polynomial(degree: int, coefficient: str) -> str:
    return " + ".join(f"{coefficient} * x^{j}" for j in range(1, degree + 1))


@pytest.fixture(autouse=True)
def nothing_is_lowered(monkeypatch):
    """Every spec here must be refused by the checks, before lowering builds anything."""
    def lower(*args, **kwargs):
        raise AssertionError("the spec reached lowering: nothing refused it first")
    monkeypatch.setattr(driver, "lower", lower)


def refused(text: str) -> tuple[SpecError, float]:
    """The SpecError a published spec gets, and the CPU seconds until it."""
    cpu = time.process_time()
    with pytest.raises(SpecError) as e:
        compile_published(text, 2048, 40, "<bomb>")
    return e.value, time.process_time() - cpu


LONG = quadratics("a", 1000) + model()                          # 50 KB
PARENS = "activation a odd saturate 1 {\n    |x| <= 1 : " + "(" * 7800 + "x" + ")" * 7800 + "\n}\n"
NEGS = "activation a odd saturate 1 {\n    |x| <= 1 : " + "- " * 7800 + "x\n}\n"

# name: (spec, line, column, message)
BOMBS = {
    "a long spec: 1000 segments": (
        LONG, 334, 36, f"the spec has {len(LONG)} characters, more than the 16384 a spec may "
                       "have"),
    "parentheses 7800 deep": (
        PARENS + model(), 2, 16 + 64, "parentheses nested more than 64 deep"),
    "unary minus 7800 deep": (
        NEGS + model(), 2, 16 + 2 * (7800 - 65), "operators nested more than 64 deep"),
    "300 segments": (
        quadratics("a", 300) + model(), 66, 5, "activation 'a': an activation may have at most "
                                               "64 segments"),
    "64 different quadratics": (
        quadratics("a", 64) + model(), 76, 19, "layer 1: activation 'a' needs about 15759 ANDs, "
                                               "more than the 8192 an activation circuit may "
                                               "have"),
    "degree 16, 40-bit coefficients": (
        activation("a", [(0.99, polynomial(16, "0.031234567890123"))]) + model(frac=40),
        13, 19, "layer 1: activation 'a' needs about 13309 ANDs, more than the 8192 an "
                "activation circuit may have"),
    "five activations of 28 segments": (
        "".join(quadratics(n, 28, salt=i) for i, n in enumerate("abcde"))
        + model("a", "b", more="    dense 8 -> 8 c\n    dense 8 -> 8 d\n    dense 8 -> 8 e\n"),
        162, 18, "layer 3: activation 'c' brings the model's circuits to about 22879 ANDs, "
                 "more than the 16384 a model may have"),
    "a range analysis of 2^24 magnitudes": (
        activation("a", [(255.0, "0.001 * x")]) + model(act="fix<40, 16>", io="fix<17, 9>"),
        13, 19, "layer 1: activation 'a' needs a range analysis of 33423362 values "
                "(magnitudes x powers), more than the 2097152 allowed"),
    "x^16 over 2^24 magnitudes": (
        activation("a", [(255.0, "1e-40 * x^16 + 0.001 * x")])
        + model(act="fix<40, 16>", io="fix<17, 9>"),
        13, 5, "layer 1: activation a: its powers of |x| reach about 2^159 in fixed point, "
               "more than the 2^62 supported; lower the bounds or the degree"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_refused_fast_at_its_position(name):
    text, line, column, message = BOMBS[name]
    e, cpu = refused(text)
    assert (e.line, e.column, e.message) == (line, column, message)
    assert cpu < CPU_SECONDS, f"{cpu:.2f} s of CPU before refusing"


def test_a_range_bomb_is_refused_before_allocating():
    """The old compiler enumerated 2^24 magnitudes for each of 17 powers: 2.8 GB."""
    tracemalloc.start()
    try:
        refused(BOMBS["x^16 over 2^24 magnitudes"][0])
        refused(BOMBS["a range analysis of 2^24 magnitudes"][0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak / 1e6:.1f} MB allocated before refusing"


# Bounded before too (or cheap), refused in one line at their position; listed so that the
# limits stay stated and tested in one place.
LIMITS = {
    "17 activations": (
        "".join(activation(f"a{i}", [(1.0, "x")]) for i in range(17)) + model("a0", "a0"),
        49, 1, "a spec may define at most 16 activations"),
    "degree 17": (
        activation("a", [(1.0, "0.001 * x^16 * x")]) + model(), 2, 36,
        "an activation polynomial must have degree at most 16; this is of degree 17"),
    "x^100000": (
        activation("a", [(1.0, "x^100000")]) + model(), 2, 24,
        "exponent must be an integer from 0 to 16, got 100000"),
    "10^10^10": (
        activation("a", [(1.0, "10^10^10 * x")]) + model(), 2, 25,
        "exponent must be an integer from 0 to 16, got 1e+10"),
    "fix<4000, 2000>": (
        model(act="fix<4000, 2000>"), 5, 5,
        "bad activation format fix<4000,2000>: total bits must be between 1 and 62, got 4000"),
    "a 101-digit number": (
        model(io="fix<" + "9" * 101 + ", 9>"), 4, 21, "a number of 101 characters (at most 100)"),
    "coefficient frac 62": (
        model(frac=62), 8, 22, "coefficient frac must be between 0 and 61, got 62"),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_limit_refused_at_its_position(name):
    text, line, column, message = LIMITS[name]
    e, cpu = refused(text)
    assert (e.line, e.column, e.message) == (line, column, message)
    assert cpu < CPU_SECONDS

