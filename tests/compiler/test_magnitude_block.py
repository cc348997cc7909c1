"""synthesis.magnitude_circuit on every one of its inputs (m's low bits and `above`), for the
built-in formats and random activations: it is simplified on exactly that set (its
polynomials' gates only where saturation does not decide), so this is the whole proof that
the simplification kept it exact. And what the simplification saves."""
import numpy as np
import pytest

from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.compiler import piecewise, synthesis

from .test_piecewise import DEGENERATE, SEEDS, random_table
from .test_synthesis_tanh_star import CATALOG, catalog_table


def check_every_input(t):
    c = synthesis.magnitude_circuit(piecewise.block_key(t))
    n = synthesis.low_bits(t)
    every = np.arange(1 << n + 1, dtype=np.int64)
    m, above = every & ((1 << n) - 1), every >> n
    a = (m + 1) >> 1 if t.shift else m
    sat = (above == 1) | (a > t.thresholds[-1])
    want = np.where(sat, t.saturation, t.magnitude_values(np.minimum(a, t.thresholds[-1])))
    signed = ("y",) if synthesis.value_signed(t) else ()
    got = evaluate(linearise(c), {"m": m, "above": above}, signed_outputs=signed)["y"]
    assert np.array_equal(np.asarray(got, np.int64), want), t


@pytest.mark.parametrize("name", CATALOG)
def test_catalog_formats(name):
    check_every_input(catalog_table(name))


@pytest.mark.parametrize("seed", [*SEEDS[::3], *DEGENERATE])
def test_random_activations(seed):
    check_every_input(random_table(seed))


def test_the_formats_share_one_block():
    """tiny's and compact's four activations differ only in their accumulators."""
    keys = {piecewise.block_key(catalog_table(name)) for name in CATALOG}
    assert len(keys) == 1


def test_what_the_simplification_saves(monkeypatch):
    """Compact's block: 9 (increment) + 10 (comparator on m's 11 bits) + 1 (OR with above)
    + 144 (polynomials) + 8 (multiplexer), 171 after optimise (the increment and the
    comparator share an AND); 157 after the simplification on its 4096 inputs."""
    t = piecewise.block_key(catalog_table("compact2"))
    synthesis.magnitude_circuit.cache_clear()
    monkeypatch.setattr(synthesis, "MAX_INPUT_BITS", 0)
    plain = synthesis.magnitude_circuit(t).counts()["AND"]
    synthesis.magnitude_circuit.cache_clear()
    monkeypatch.undo()
    assert (plain, synthesis.magnitude_circuit(t).counts()["AND"]) == (171, 157)
