"""Powers that are 0 for every magnitude: an activation whose last bound is below one unit of
the activation format squared (|x| <= 0.01 in fix<10,8>: a <= 2, a^2 >> 8 = 0). The old
synthesis raised ValueError ('cannot truncate 0 bits to 1') from a 300-byte spec."""
from __future__ import annotations

import numpy as np
import pytest

from veil.circuits.evaluate import evaluate
from veil.circuits.linear import linearise
from veil.circuits.passes import optimise
from veil.compiler.activation_table import ActivationTable
from veil.compiler.errors import SourcePos
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.model import ActivationDef, Symmetry
from veil.compiler.synthesis import activation_circuit


@pytest.mark.parametrize("bound,poly", [(0.01, (0.0, 1.0, 1.0)), (0.02, (0.001, 1.0, 0.5, 2.0))])
def test_circuit_with_zero_powers_matches_the_table(bound, poly):
    act = ActivationDef("a", (bound,), (poly,), 0.01, Symmetry.ODD, SourcePos("t", 1, 1))
    table = ActivationTable.build(act, 30, 17, FixFormat(10, 8), 9)
    assert table.ranges()["P2"] == (0, 0)
    lin = linearise(optimise(activation_circuit(table)))
    xs = np.arange(-2 ** 12, 2 ** 12, dtype=np.int64)
    got = evaluate(lin, {"x": xs}, signed_outputs=("t",))["t"]
    assert np.array_equal(np.asarray(got, dtype=np.int64), table.reference(xs))
