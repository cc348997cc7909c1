"""`predict residual`: the noisy centre is added to the network's output, exactly."""
import numpy as np
import pytest

from veil.backends.catalog import get_backend
from veil.models.catalog import load_model
from veil.compiler.errors import SpecError
from veil.compiler.lower import lower

SPEC = """model r {{
    patch 5 -> 1 stride 1
    normalise p -> (p / 255 - 0.5) / 0.2
    input fix<12, 9>
    activation fix<10, 8>
    weight fix<11, 9>
    bias fix<24, 17>
    coefficient frac 9
    weights random seed 4
    {predict}
    dense 25 -> 4 tanh_star
    dense 4 -> 1
}}
"""


def model(tmp_path, predict):
    (tmp_path / "r.veil").write_text(SPEC.format(predict=predict))
    return load_model(tmp_path / "r.veil")


def test_residual_adds_the_noisy_centre(tmp_path):
    clean, res = model(tmp_path, "predict clean"), model(tmp_path, "predict residual")
    assert not clean.residual and res.residual
    assert res.output_format.total == clean.output_format.total + 1
    pixels = np.random.default_rng(0).integers(0, 256, (50, 25)).astype(float)
    for name in ("plaintext", "float", "float-approx"):
        b = get_backend(name)
        diff = b.run_pixels(lower(res), pixels) - b.run_pixels(lower(clean), pixels)
        # the normalised centre x = p/51 - 2.5 comes back, i.e. p - 127.5 grey levels, exactly
        # up to the input quantisation (half a unit of fix<12,9>: 51 / 2^10 grey levels)
        np.testing.assert_allclose(diff[:, 0], pixels[:, 12] - 127.5, atol=51 / 2 ** 10 + 1e-9)


def test_residual_is_integer_exact(tmp_path):
    p = lower(model(tmp_path, "predict residual"))
    x = p.quantise_input(np.random.default_rng(1).integers(0, 256, (20, 25)))
    q = get_backend("plaintext").run_fixed(p, x)
    shift = p.model.output_format.frac - p.model.input_format.frac
    assert np.array_equal(p.finish_output(q, x), q + (x[:, 12:13] << shift))


def test_predict_errors(tmp_path):
    (tmp_path / "r.veil").write_text(SPEC.format(predict="predict residual\n    predict clean"))
    with pytest.raises(SpecError, match="duplicate 'predict' entry"):
        load_model(tmp_path / "r.veil")
    (tmp_path / "r.veil").write_text(SPEC.format(predict="predict noise"))
    with pytest.raises(SpecError) as e:
        load_model(tmp_path / "r.veil")
    assert e.value.line == 10


def test_bias_must_fit_the_accumulator(tmp_path):
    (tmp_path / "r.veil").write_text(SPEC.format(predict="").replace("bias fix<24, 17>",
                                                                     "bias fix<50, 17>"))
    with pytest.raises(SpecError, match="does not fit layer 1's"):
        load_model(tmp_path / "r.veil")


def test_activation_too_wide_is_a_spec_error(tmp_path):
    text = SPEC.format(predict="").replace("tanh_star", "wide")
    text = "activation wide odd saturate 1 {\n  |x| <= 100000 : 0.001 * x^2\n}\n" + text
    (tmp_path / "r.veil").write_text(text)
    with pytest.raises(SpecError, match="at most 2\\^24"):
        lower(load_model(tmp_path / "r.veil"))
