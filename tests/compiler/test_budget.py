"""Weight budgets and the refusal of weights files: a spec that declares more than the compiler
may allocate is a SpecError at the dense clause that crosses a budget, raised before any array
is allocated (measured); a spec compiled as a published one never opens a file."""
from __future__ import annotations

import tracemalloc

import pytest

from veil.compiler import ast
from veil.compiler.budget import (MAX_DENSE_LAYERS, MAX_LAYER_WEIGHTS, MAX_MODEL_WEIGHTS,
                                  WeightBudget)
from veil.compiler.errors import SpecError
from veil.compiler.parser import parse_text
from veil.models.catalog import MODELS_DIR, compile_published

HEAD = """model bomb {
    patch 1 -> 1
    normalise p -> p / 255
    input fix<12, 9>
    activation fix<10, 8>
    weight fix<11, 9>
    bias fix<20, 17>
    coefficient frac 9
    weights random seed 1
"""


def spec(hidden: list[int]) -> str:
    sizes = [1] + hidden + [1]
    dense = [f"    dense {a} -> {b}" + (" tanh_star" if k < len(hidden) else "")
             for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    return HEAD + "\n".join(dense) + "\n}\n"


def refused(text: str) -> tuple[SpecError, int]:
    """The SpecError and the peak bytes allocated while compiling until it."""
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as e:
            compile_published(text, 2048, 40, "<bomb>")
        return e.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("hidden,line,message", [
    ([6400, 6400], 11, "layer 2 has 40960000 weights, more than the 16777216 a layer may have"),
    ([4000] * 4, 13, "layer 4 brings the model to 48004000 weights, more than the 33554432 a "
                     "model may have"),
    ([1] * MAX_DENSE_LAYERS, 42, "layer 33: a model may have at most 32 dense layers"),
])
def test_bomb_refused_at_its_clause_before_allocating(hidden, line, message):
    e, peak = refused(spec(hidden))
    assert (e.line, e.column, e.message) == (line, 5, message)
    assert peak < 4 << 20, f"{peak / 1e6:.1f} MB allocated before refusing"


def test_burger_fits_the_budgets():
    model = parse_text((MODELS_DIR / "burger.veil").read_text(), "burger.veil").models[0]
    dense = [e for e in model.entries if isinstance(e, ast.Dense)]
    budget = WeightBudget()
    for k, d in enumerate(dense, start=1):
        budget.charge(k, int(d.n_in.text), int(d.n_out.text), d.pos)
    assert budget.weights == 27_800_800 <= MAX_MODEL_WEIGHTS
    assert max(int(d.n_in.text) * int(d.n_out.text) for d in dense) <= MAX_LAYER_WEIGHTS


def test_published_spec_may_not_name_a_weights_file(tmp_path):
    text = (MODELS_DIR / "tiny.veil").read_text()
    with pytest.raises(SpecError) as e:
        compile_published(text, 2048, 40, str(tmp_path / "tiny.veil"))
    assert (e.value.line, e.value.column) == (11, 5)
    assert e.value.message == ("a published spec may not name a weights file (only 'weights "
                               "random seed N')")


@pytest.mark.parametrize("name", ["tiny", str(MODELS_DIR / "tiny.veil")])
def test_published_spec_is_always_text(name):
    """A name or a path is parsed as (bad) spec text, never looked up or opened."""
    with pytest.raises(SpecError) as e:
        compile_published(name, 2048, 40, "<model m>")
    assert e.value.path == "<model m>" and e.value.line == 1
