"""`veil train --checkpoint/--resume`: an interrupted and resumed run ends with the same bits
as an uninterrupted one; checkpoints of another run, damaged or foreign files are refused in
one line and nothing is overwritten."""
import numpy as np
import pytest
from click.testing import CliRunner

from veil.cli import main
from veil.models.catalog import resolve_spec

PICTURES = {"wheels": [np.random.default_rng(0).uniform(0, 255, (40, 40)),
                       np.random.default_rng(1).uniform(0, 255, (30, 50))],
            "skimage16": [np.random.default_rng(2).uniform(0, 255, (40, 40))]}
STEPS = ["--steps", "300", "--batch", "16", "--seed", "5"]


@pytest.fixture
def spec(tmp_path, monkeypatch):
    """The tiny architecture (25 -> 8 -> 8 -> 1), trained on small synthetic pictures."""
    monkeypatch.setattr("veil.models.train_cli.load_training_images",
                        lambda dataset="wheels": PICTURES[dataset])
    path = tmp_path / "t.veil"
    path.write_text(resolve_spec("tiny").read_text().replace('"tiny.npz"', '"mine.npz"'))
    return path


def run(*args):
    return CliRunner().invoke(main, ["train", *map(str, args)])


def one_line_error(res, text):
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], res.stderr


def weights(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_resumed_run_ends_bit_identical(spec, tmp_path):
    assert run(spec, *STEPS, "-o", tmp_path / "straight.npz").exit_code == 0
    ckpt = tmp_path / "run.ckpt"
    first = run(spec, *STEPS, "-o", tmp_path / "resumed.npz", "--checkpoint", ckpt,
                "--every", 100, "--until", 170)
    assert first.exit_code == 0, first.stderr
    assert "stopped at step 170 of 300" in first.stderr
    assert not (tmp_path / "resumed.npz").exists() and ckpt.exists()
    second = run(spec, *STEPS, "-o", tmp_path / "resumed.npz", "--checkpoint", ckpt, "--resume")
    assert second.exit_code == 0, second.stderr
    assert "resuming" in second.stderr and "at step 170" in second.stderr
    a, b = weights(tmp_path / "straight.npz"), weights(tmp_path / "resumed.npz")
    assert sorted(a) == ["b1", "b2", "b3", "w1", "w2", "w3"]
    assert all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)
    # a different seed really gives other weights, so the equality above says something
    assert run(spec, *STEPS[:-1], "6", "-o", tmp_path / "other.npz").exit_code == 0
    assert not np.array_equal(a["w1"], weights(tmp_path / "other.npz")["w1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "other.npz", "resumed.npz", "run.ckpt", "straight.npz", "t.veil"]


@pytest.fixture
def ckpt(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    res = run(spec, *STEPS, "--checkpoint", path, "--until", 50)
    assert res.exit_code == 0, res.stderr
    return path


@pytest.mark.parametrize("change, message", [
    (["--steps", "400"], "steps is 300 there, 400 here"),
    (["--batch", "8"], "batch is 16 there, 8 here"),
    (["--seed", "7"], "seed is 5 there, 7 here"),
    (["--data", "skimage16"], "training pictures is"),
    (["--lr", "0.002"], "lr is 0.001 there, 0.002 here"),
])
def test_checkpoint_of_another_config_is_refused(spec, ckpt, change, message):
    args = dict(zip(STEPS[::2], STEPS[1::2]))
    args.update(dict(zip(change[::2], change[1::2])))
    before = ckpt.read_bytes()
    res = run(spec, *[x for kv in args.items() for x in kv], "--checkpoint", ckpt, "--resume")
    one_line_error(res, f"checkpoint of a different run: {message}")
    assert ckpt.read_bytes() == before and not (spec.parent / "mine.npz").exists()


def test_checkpoint_of_another_spec_is_refused(spec, ckpt, tmp_path):
    other = tmp_path / "u.veil"
    other.write_text(spec.read_text().replace("dense 8 -> 8", "dense 8 -> 6")
                     .replace("dense 25 -> 8", "dense 25 -> 8").replace("dense 8 -> 1", "dense 6 -> 1"))
    res = run(other, *STEPS, "--checkpoint", ckpt, "--resume")
    one_line_error(res, "checkpoint of a different run: hidden is [8, 8] there, [8, 6] here")


def test_damaged_checkpoints_are_refused(spec, ckpt):
    data = bytearray(ckpt.read_bytes())
    flipped = ckpt.parent / "flipped.ckpt"
    data[data.index(b"p0.npy") + 200] ^= 0x40         # inside the first weight array
    flipped.write_bytes(bytes(data))                    # (the zip's own CRC notices)
    one_line_error(run(spec, *STEPS, "--checkpoint", flipped, "--resume"),
                   "not a readable training checkpoint")
    with np.load(ckpt) as z:                            # a well-formed zip, one weight changed
        arrays = {k: z[k] for k in z.files}
    arrays["p0"][0, 0] += 1e-3
    altered = ckpt.parent / "altered.ckpt"
    with open(altered, "wb") as fh:
        np.savez(fh, **arrays)
    one_line_error(run(spec, *STEPS, "--checkpoint", altered, "--resume"),
                   "checkpoint is damaged (its SHA-256 does not match)")
    cut = ckpt.parent / "cut.ckpt"
    cut.write_bytes(ckpt.read_bytes()[:1000])
    one_line_error(run(spec, *STEPS, "--checkpoint", cut, "--resume"),
                   "not a readable training checkpoint")
    junk = ckpt.parent / "junk.ckpt"
    junk.write_text("hello")
    one_line_error(run(spec, *STEPS, "--checkpoint", junk, "--resume"),
                   "not a readable training checkpoint")


def test_checkpoint_options_are_checked_before_any_work(spec, ckpt, tmp_path):
    before = ckpt.read_bytes()
    one_line_error(run(spec, *STEPS, "--checkpoint", ckpt), "exists: add --resume")
    assert ckpt.read_bytes() == before
    one_line_error(run(spec, *STEPS, "--checkpoint", tmp_path / "none.ckpt", "--resume"),
                   "no such checkpoint")
    one_line_error(run(spec, *STEPS, "--until", "10"), "need --checkpoint FILE")
    one_line_error(run(spec, *STEPS, "--checkpoint", tmp_path / "no" / "x.ckpt"),
                   "does not exist")
    one_line_error(run(spec, *STEPS, "--checkpoint", tmp_path / "y.ckpt", "--every", "0"),
                   "at least 1")
    one_line_error(run(spec, *STEPS, "--lr", "1e-6"), "want 0 < --lr-final <= --lr")


# -- --init: a warm restart from finished weights ---------------------------------------------
@pytest.fixture
def trained(spec, tmp_path):
    path = tmp_path / "first.npz"
    assert run(spec, *STEPS, "-o", path).exit_code == 0
    return path


def test_init_starts_from_the_given_weights(spec, tmp_path, trained):
    """With a learning rate too small to move anything the result is the start: the weights
    really are loaded (a random start ends elsewhere), and training from them goes on."""
    still = run(spec, *STEPS, "--lr", "1e-12", "--lr-final", "1e-12", "--init", trained,
                "-o", tmp_path / "still.npz")
    assert still.exit_code == 0 and f"starting from the weights in {trained}" in still.stderr
    start, kept = weights(trained), weights(tmp_path / "still.npz")
    assert all(np.allclose(start[k], kept[k], atol=1e-6) for k in start)
    assert run(spec, *STEPS, "--lr", "1e-12", "--lr-final", "1e-12",
               "-o", tmp_path / "random.npz").exit_code == 0
    assert not np.allclose(start["w1"], weights(tmp_path / "random.npz")["w1"], atol=1e-3)
    assert run(spec, *STEPS, "--init", trained, "-o", tmp_path / "on.npz").exit_code == 0
    assert not np.allclose(start["w1"], weights(tmp_path / "on.npz")["w1"], atol=1e-6)


def test_warm_restart_resumes_bit_identical_and_knows_its_start(spec, tmp_path, trained):
    straight = run(spec, *STEPS, "--init", trained, "-o", tmp_path / "straight.npz")
    assert straight.exit_code == 0
    ckpt = tmp_path / "warm.ckpt"
    assert run(spec, *STEPS, "--init", trained, "--checkpoint", ckpt, "--until", 120,
               "-o", tmp_path / "resumed.npz").exit_code == 0
    one_line_error(run(spec, *STEPS, "--checkpoint", ckpt, "--resume"),
                   "checkpoint of a different run: initial weights is ")
    other = tmp_path / "other.npz"
    np.savez(other, **{k: v + 1 for k, v in weights(trained).items()})
    one_line_error(run(spec, *STEPS, "--init", other, "--checkpoint", ckpt, "--resume"),
                   "checkpoint of a different run: initial weights is ")
    res = run(spec, *STEPS, "--init", trained, "--checkpoint", ckpt, "--resume",
              "-o", tmp_path / "resumed.npz")
    assert res.exit_code == 0, res.stderr
    a, b = weights(tmp_path / "straight.npz"), weights(tmp_path / "resumed.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_init_of_another_architecture_is_refused(spec, tmp_path, trained):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{**weights(trained), "w2": np.zeros((6, 8), np.float32)})
    one_line_error(run(spec, *STEPS, "--init", wrong, "-o", tmp_path / "x.npz"),
                   "weights of another architecture (w2 is (6, 8) there, (8, 8) here)")
    partial = tmp_path / "partial.npz"
    np.savez(partial, w1=weights(trained)["w1"])
    one_line_error(run(spec, *STEPS, "--init", partial, "-o", tmp_path / "x.npz"),
                   "(b1 is missing there")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    one_line_error(run(spec, *STEPS, "--init", junk, "-o", tmp_path / "x.npz"),
                   "not a readable weights file")
    assert not (tmp_path / "x.npz").exists()
