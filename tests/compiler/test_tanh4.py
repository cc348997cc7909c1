"""tanh4 (the prelude's, used by the `wide` model), issue 15's closer fit of tanh: its
circuits equal its integer table on every accumulator the circuit can tell apart (bare) and
under random masks (masked), in the tiny model's formats by default and in wide's own with
-m slow; and the float claims the prelude's comment makes (worst error against tanh, continuity
at 0) hold."""
from functools import lru_cache

import numpy as np
import pytest

from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise
from veil.compiler.activation_table import ActivationTable
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.synthesis import (activation_circuit, join_masked, low_width,
                                     masked_activation_circuit)
from veil.models.catalog import compile_model

from .test_synthesis_exhaustive import every_distinct_accumulator

KAPPA = 40
FORMATS = [(29, 18), (26, 17),                                    # tiny's accumulators
           pytest.param("layer1", marks=pytest.mark.slow),        # wide's own: 2^25
           pytest.param("layer2", marks=pytest.mark.slow)]


@lru_cache(maxsize=None)
def program():
    return compile_model("wide")


def table(formats) -> ActivationTable:
    if isinstance(formats, str):
        return program().activations[int(formats[-1]) - 1].table
    act = program().model.layers[0].activation
    return ActivationTable.build(act, *formats, FixFormat(10, 8), 9)


@pytest.mark.parametrize("formats", FORMATS)
def test_bare_circuit_on_every_accumulator(formats):
    t = table(formats)
    xs = every_distinct_accumulator(t, np.random.default_rng(3))
    got = evaluate(linearise(optimise(activation_circuit(t))), {"x": xs},
                   signed_outputs=("t",))["t"]
    assert np.array_equal(np.asarray(got, np.int64), t.reference(xs))


@pytest.mark.parametrize("formats", FORMATS)
def test_masked_circuit_on_every_accumulator_with_random_masks(formats):
    t = table(formats)
    rng = np.random.default_rng(4)
    x = every_distinct_accumulator(t, rng)
    acc = t.acc_bits
    r_c = rng.integers(0, 1 << acc, len(x))
    r_u = rng.integers(0, 1 << (t.out_format.total + KAPPA), len(x))
    out = evaluate(linearise(optimise(masked_activation_circuit(t, KAPPA))),
                   {"x_masked": (x + r_c) % (1 << acc), "r_c": r_c,
                    "r_lo": r_u % (1 << low_width(t))})
    got = np.asarray(join_masked(t, KAPPA, out, r_u), np.int64)
    assert np.array_equal(got, (t.reference(x) + r_u) % (1 << (t.out_format.total + KAPPA + 1)))


def test_the_float_function_is_close_to_tanh_and_continuous_at_0():
    tanh4 = program().model.layers[0].activation.float_activation()
    tanh_star = compile_model("compact").model.layers[0].activation.float_activation()
    x = np.linspace(-6, 6, 240_001)
    assert np.abs(tanh4(x) - np.tanh(x)).max() < 0.0041
    assert np.abs(tanh_star(x) - np.tanh(x)).max() > 0.02          # what it improves on
    assert abs(tanh4(np.array([1e-9]))[0]) < 1e-8 and abs(tanh_star(np.array([1e-9]))[0]) > 0.01
