"""Training: seeded reproducibility, the residual target, and `veil train` on a spec."""
import numpy as np
import pytest
from click.testing import CliRunner

from veil.cli import main
from veil.compiler.check import load_prelude
from veil.models.training import PatchSampler, TrainConfig, train

ACT = load_prelude()["tanh_star"].float_activation()
IMAGES = [np.random.default_rng(0).uniform(0, 255, (40, 40))]


def cfg(**kw):
    base = dict(input_size=5, output_size=1, hidden=(4,), scale=1 / 51, offset=-2.5,
                steps=30, batch=16, seed=3)
    return TrainConfig(**{**base, **kw})


def test_seeded_training_is_reproducible():
    a = train(cfg(), ACT, log=lambda s: None, images=IMAGES)
    b = train(cfg(), ACT, log=lambda s: None, images=IMAGES)
    c = train(cfg(seed=4), ACT, log=lambda s: None, images=IMAGES)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["w1"], c["w1"])
    assert a["w1"].shape == (4, 25) and a["w2"].shape == (1, 4)


def test_residual_target_is_clean_minus_noisy_centre():
    c = cfg(input_size=6, output_size=2, residual=True)
    x, t = PatchSampler(IMAGES, c, np.random.default_rng(0)).draw(50)
    x2, t2 = PatchSampler(IMAGES, cfg(input_size=6, output_size=2),
                          np.random.default_rng(0)).draw(50)
    centre = x.reshape(-1, 6, 6)[:, 2:4, 2:4].reshape(50, 4)
    np.testing.assert_allclose(t, t2 - centre, atol=1e-6)


def test_train_command_writes_weights_the_spec_accepts(tmp_path):
    from veil.models.catalog import load_model, resolve_spec
    spec = tmp_path / "t.veil"
    spec.write_text(resolve_spec("tiny").read_text().replace('"tiny.npz"', '"mine.npz"'))
    res = CliRunner().invoke(main, ["train", str(spec), "--steps", "20", "--batch", "8"])
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "mine.npz").exists()
    assert load_model(spec).weights_source == "file mine.npz"


def test_train_random_spec_needs_output(tmp_path):
    spec = tmp_path / "r.veil"
    from veil.models.catalog import resolve_spec
    spec.write_text(resolve_spec("tiny").read_text().replace('weights "tiny.npz"', "weights random seed 1"))
    res = CliRunner().invoke(main, ["train", str(spec), "--steps", "5"])
    assert res.exit_code != 0 and "say where to write them with -o" in res.stderr
