"""Compile bombs: specs of a few kilobytes that cost the old compiler seconds to minutes of
CPU or gigabytes, each now refused by a limit of compiler/budget.py at its position, in one
line, within a small fraction of a second of CPU and before anything big is allocated. How
the old compiler fared with each (on this 2-core machine, shared with other jobs) is in the
commit that added this file; the worst spec the budgets admit is measured by
bench/compile_budget.py (docs/service.md, "Publishing")."""
from __future__ import annotations

import time

import pytest

from veil.compiler.errors import SpecError
from veil.models.catalog import compile_published

CPU_SECONDS = 0.5        # a refusal takes at most this much CPU (parsing 16 KiB: 0.25 s)


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
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_refused_fast_at_its_position(name):
    text, line, column, message = BOMBS[name]
    e, cpu = refused(text)
    assert (e.line, e.column, e.message) == (line, column, message)
    assert cpu < CPU_SECONDS, f"{cpu:.2f} s of CPU before refusing"


# Bounded before too (or cheap), refused in one line at their position; listed so that the
# limits stay stated and tested in one place.
LIMITS = {
    "a 101-digit number": (
        model(io="fix<" + "9" * 101 + ", 9>"), 4, 21, "a number of 101 characters (at most 100)"),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_limit_refused_at_its_position(name):
    text, line, column, message = LIMITS[name]
    e, cpu = refused(text)
    assert (e.line, e.column, e.message) == (line, column, message)
    assert cpu < CPU_SECONDS

