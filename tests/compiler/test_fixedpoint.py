import numpy as np
import pytest

from veil.compiler.fixedpoint import FixFormat


def test_range_and_str():
    f = FixFormat(16, 12)
    assert (f.min_int, f.max_int) == (-32768, 32767)
    assert f.min_value == -8.0 and f.max_value == 32767 / 4096
    assert str(f) == "fix<16,12>"


def test_quantise_rounds_half_to_even_without_clipping():
    f = FixFormat(8, 1)
    q = f.quantise(np.array([0.25, 0.75, -0.25, -0.75, 1.25, 100.0]))
    assert q.dtype == np.int64
    assert q.tolist() == [0, 2, 0, -2, 2, 200]
    assert not f.fits(q) and f.fits(q[:5])
    assert f.fits(np.array([f.min_int, f.max_int])) and not f.fits([f.min_int - 1])


def test_to_float_round_trip():
    f = FixFormat(32, 24)
    x = np.array([-1.5, 0.0, 3.25, 1 / 3])
    assert np.allclose(f.to_float(f.quantise(x)), x, atol=2.0**-25)


def test_quantise_rejects_non_finite():
    with pytest.raises(ValueError):
        FixFormat(16, 12).quantise(np.array([np.inf]))


@pytest.mark.parametrize("total,frac", [(0, 0), (63, 12), (16, 16), (16, -1)])
def test_invalid_formats(total, frac):
    with pytest.raises(ValueError):
        FixFormat(total, frac)
