"""The model-search tools: candidate specs and their cost per pixel (bench/candidates.py), and
float quality with a weights file swapped in (bench/float_quality.py)."""
import numpy as np
import pytest

from veil.backends.catalog import get_backend
from veil.bench.candidates import cost_per_pixel, parse_shape, spec_text
from veil.bench.trained_program import program_for
from veil.models.catalog import load_model


def test_shape_strings():
    assert parse_shape("24-512-512-12") == (24, (512, 512), 12, 12)
    assert parse_shape("16-256-256-256-8/4") == (16, (256, 256, 256), 8, 4)
    with pytest.raises(SystemExit):
        parse_shape("16-8")


def test_cost_per_pixel_counts_macs_by_hand_and_ands_per_neuron():
    macs, ands = cost_per_pixel(spec_text("16-256-256-8"))
    assert macs == (256 * 256 + 256 * 256 + 256 * 64) / 64 == cost_per_pixel("compact")[0]
    assert ands == cost_per_pixel("compact")[1]
    macs, ands12 = cost_per_pixel(spec_text("24-512-512-12"))
    assert macs == (576 * 512 + 512 * 512 + 512 * 144) / 144
    # 1,024 activations per 144 pixels instead of 512 per 64, each about the same circuit
    assert 0.8 < (ands12 / (1024 / 144)) / (ands / (512 / 64)) < 1.2


def test_candidate_spec_keeps_compacts_numbers_and_takes_a_weights_file(tmp_path):
    spec = tmp_path / "c.veil"
    spec.write_text(spec_text("6-4-2"))
    model = load_model(spec)
    compact = load_model("compact")
    assert (model.geometry.input_size, model.geometry.output_size) == (6, 2)
    assert model.residual and model.normalisation == compact.normalisation
    rng = np.random.default_rng(0)
    w = {"w1": rng.normal(0, 0.1, (4, 36)), "b1": rng.normal(0, 0.1, 4),
         "w2": rng.normal(0, 0.1, (4, 4)), "b2": rng.normal(0, 0.1, 4)}
    np.savez(tmp_path / "w.npz", **w)
    label, program = program_for(f"{spec}=" + str(tmp_path / "w.npz"))
    assert label == "w"
    np.testing.assert_array_equal(program.model.layers[0].weights_float, w["w1"])
    patch = rng.uniform(0, 255, (3, 36))
    x = (patch / 255 - 0.5) / 0.2                    # the spec's normalisation, by hand
    h = np.tanh(x @ w["w1"].T + w["b1"]) @ w["w2"].T + w["b2"]
    centre = x.reshape(3, 6, 6)[:, 2:4, 2:4].reshape(3, 4)
    expect = ((h + centre) * 0.2 + 0.5) * 255
    np.testing.assert_allclose(get_backend("float").run_pixels(program, patch), expect,
                               rtol=1e-9)


def test_a_checkpoints_weights_can_be_evaluated(tmp_path):
    from veil.models.train_checkpoint import save_checkpoint
    from veil.models.training import TrainConfig, initial_state
    spec = tmp_path / "c.veil"
    spec.write_text(spec_text("6-4-2"))
    state = initial_state(TrainConfig(input_size=6, output_size=2, hidden=(4,), scale=1 / 51,
                                      offset=-2.5, seed=9))
    save_checkpoint(tmp_path / "run.ckpt", state, {"any": "run"})
    label, program = program_for(f"{spec}={tmp_path / 'run.ckpt'}")
    assert label == "run"
    for layer, w, b in zip(program.model.layers, state.params[::2], state.params[1::2]):
        np.testing.assert_array_equal(layer.weights_float, w)
        np.testing.assert_array_equal(layer.bias_float, b)
