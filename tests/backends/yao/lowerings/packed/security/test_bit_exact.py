"""The recorded runs (full exponentiations, and subset products of a pool) compute exactly what
the plaintext reference does: the other files attack runs that are correct."""
import numpy as np
import pytest

from veil.backends.catalog import get_backend

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


@pytest.mark.parametrize("which", ["run", "subset_run"])
def test_result_is_bit_exact(which, request):
    run = request.getfixturevalue(which)
    want = get_backend("plaintext").run_fixed(run["program"], run["x"])
    assert np.array_equal(want, run["accs"][-1])
    for out in run["outs"]:
        assert np.array_equal(out, want)
