"""The yao backend (paper lowering) against the plaintext reference, through `veil check`
and `veil denoise`, as a user would run them."""
import numpy as np
import pytest

from veil.backends.yao.framing.kinds import Kind
from veil.util.errors import UsageError
from click.testing import CliRunner
from PIL import Image

from veil.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("seed", [0, 1])
def test_check_tiny_paper(seed):
    res = run("check", "tiny", "--backends", "plaintext,yao", "--lowering", "paper",
              "--patches", 3, "--seed", seed, "--key-bits", 768)
    assert res.exit_code == 0, res.output + res.stderr
    assert "yao vs plaintext (paper): 3/3 patches bit-identical" in res.output


def test_check_other_random_weights(tmp_path):
    spec = (tmp_path / "t.veil")
    from veil.models.catalog import resolve_spec
    src = resolve_spec("tiny").read_text().replace('weights "tiny.npz"', "weights random seed 99")
    spec.write_text(src)
    res = run("check", spec, "--backends", "plaintext,yao", "--lowering", "paper",
              "--patches", 2, "--seed", 5, "--key-bits", 768)
    assert res.exit_code == 0 and "2/2 patches bit-identical" in res.output, res.output + res.stderr


@pytest.mark.parametrize("lowering", ["paper", "packed"])
def test_denoise_yao_equals_plaintext(tmp_path, monkeypatch, lowering):
    """Bit-exact with plaintext, and every activation garbled with the default scheme
    (three-halves), as the evaluator reads it off the tables frame."""
    from veil.backends.yao.gc.schemes import Scheme
    from veil.backends.yao.lowerings import garbled_activation as ga
    seen, real = [], ga.gc_from_bytes
    monkeypatch.setattr(ga, "gc_from_bytes",
                        lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    img = (128 + 40 * np.random.default_rng(3).standard_normal((3, 3))).clip(0, 255).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "n.png")
    a = run("denoise", tmp_path / "n.png", "-o", tmp_path / "y.png", "--model", "tiny",
            "--backend", "yao", "--lowering", lowering, "--key-bits", 768, "--quiet")
    assert a.exit_code == 0, a.output + a.stderr
    assert seen and {gc.scheme for gc in seen} == {Scheme.THREE_HALVES}
    assert "provisioning" in a.stderr and "online" in a.stderr and "down" in a.stderr
    b = run("denoise", tmp_path / "n.png", "-o", tmp_path / "p.png", "--model", "tiny",
            "--backend", "plaintext", "--quiet")
    assert b.exit_code == 0
    assert np.array_equal(np.array(Image.open(tmp_path / "y.png")),
                          np.array(Image.open(tmp_path / "p.png")))


@pytest.mark.parametrize("seed", [0, 3])
def test_check_tiny_packed(seed):
    res = run("check", "tiny", "--backends", "plaintext,yao", "--patches", 6, "--seed", seed,
              "--key-bits", 768)
    assert res.exit_code == 0, res.output + res.stderr
    assert "yao vs plaintext (packed): 6/6 patches bit-identical" in res.output
    assert res.stderr.count("insecure") == 1


def test_check_wide_packed():
    """The `wide` model (384-wide layers, tanh4): secure equals plaintext on a patch. 1024-bit
    keys keep it to seconds; 2048 bits runs with -m slow below."""
    res = run("check", "wide", "--backends", "plaintext,yao", "--patches", 1, "--seed", 5,
              "--key-bits", 1024)
    assert res.exit_code == 0, res.output + res.stderr
    assert "yao vs plaintext (packed): 1/1 patches bit-identical" in res.output


@pytest.mark.slow
def test_check_wide_packed_2048_bits():
    res = run("check", "wide", "--backends", "plaintext,yao", "--patches", 2)
    assert res.exit_code == 0 and "2/2 patches bit-identical" in res.output


@pytest.mark.slow
def test_check_compact_packed_2048_bits():
    res = run("check", "compact", "--backends", "plaintext,yao", "--patches", 4)
    assert res.exit_code == 0 and "4/4 patches bit-identical" in res.output


@pytest.mark.slow
def test_check_tiny_paper_2048_bits():
    res = run("check", "tiny", "--backends", "plaintext,yao", "--lowering", "paper",
              "--patches", 2, "--seed", 7)
    assert res.exit_code == 0 and "2/2 patches bit-identical" in res.output


def test_a_failing_party_stops_the_other_at_once(monkeypatch):
    """If the cloud fails mid-protocol the user must not wait for a timeout, and the error
    shown is the cloud's, not 'peer closed'."""
    import time

    from veil.backends.catalog import get_backend
    from veil.backends.yao.lowerings.packed.cloud import PackedCloud
    from veil.models.catalog import compile_model

    def broken(self, ch):
        ch.recv(Kind.INTEGERS)
        raise RuntimeError("cloud broke on purpose")
    monkeypatch.setattr(PackedCloud, "prepare", broken)
    program = compile_model("tiny", "packed", key_bits=768)
    backend = get_backend("yao")
    t = time.time()
    with pytest.raises(RuntimeError, match="cloud broke on purpose"):
        backend.run_fixed(program, np.zeros((2, 25), dtype=np.int64))
    assert time.time() - t < 30
    assert backend._session is None


def test_out_of_range_input_is_refused():
    from veil.backends.catalog import get_backend
    from veil.models.catalog import compile_model
    program = compile_model("tiny", "packed", key_bits=768)
    with pytest.raises(UsageError, match="out of range"):
        get_backend("yao").run_fixed(program, np.full((1, 25), 1 << 20, dtype=np.int64))
