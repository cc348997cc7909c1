"""The command line as a user drives it: real files, exit codes, one-line errors."""
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from veil.cli import main


def run(*args, ok=True):
    res = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert res.exit_code == 0, res.output + res.stderr
    return res


@pytest.fixture
def clean_png(tmp_path):
    y, x = np.mgrid[0:40, 0:48]
    arr = (128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)).astype(np.uint8)
    path = tmp_path / "clean.png"
    Image.fromarray(arr).save(path)
    return path


def test_noise_denoise_psnr(tmp_path, clean_png):
    noisy, out = tmp_path / "noisy.png", tmp_path / "out.png"
    run("noise", clean_png, "-o", noisy, "--sigma", 25, "--seed", 3)
    a = np.array(Image.open(noisy))
    run("noise", clean_png, "-o", tmp_path / "again.png", "--sigma", 25, "--seed", 3)
    assert np.array_equal(a, np.array(Image.open(tmp_path / "again.png")))   # seeded
    res = run("denoise", noisy, "-o", out, "--model", "tiny", "--backend", "plaintext", "--quiet")
    assert "patches" in res.stderr
    assert np.array(Image.open(out)).shape == (40, 48)
    res = run("psnr", clean_png, noisy)
    value = float(res.output.split()[0])
    assert 18 < value < 25        # sigma 25 noise is about 20.2 dB before clipping


def test_denoise_backends_agree_roughly(tmp_path, clean_png):
    outs = {}
    for backend in ("float", "float-approx", "plaintext"):
        out = tmp_path / f"{backend}.png"
        run("denoise", clean_png, "-o", out, "--model", "tiny", "--backend", backend, "--quiet")
        outs[backend] = np.array(Image.open(out)).astype(int)
    # Fixed point stays within a few grey levels of its float counterpart, mostly equal.
    diff = np.abs(outs["plaintext"] - outs["float-approx"])
    assert diff.max() <= 4 and diff.mean() < 0.3
    assert np.abs(outs["float"] - outs["float-approx"]).mean() < 3


def test_compile_stats_json_and_files(tmp_path):
    res = run("compile", "tiny", "--json")
    stats = json.loads(res.output)
    assert [L["in"] for L in stats["layers"]] == [25, 8, 8]
    assert stats["macs_per_patch"] == 25 * 8 + 8 * 8 + 8
    # l_acc = l_w + l_a + ceil(log2(n + 1)) + 1, from PROTOCOL.md, with the spec's formats
    bits = lambda fmt: int(fmt.split("<")[1].split(",")[0])
    f = stats["formats"]
    w, x, a = bits(f["weight"]), bits(f["input"]), bits(f["activation"])
    assert [L["acc_bits"] for L in stats["layers"]] == [w + x + 5 + 1, w + a + 4 + 1, w + a + 4 + 1]
    acc1 = stats["layers"][0]["acc_bits"]
    act = stats["layers"][0]["activation"]["masked"]
    # r_u's low a bits (tanh* in fix<10,8>: y and its sign); its high bits are translated
    assert act["inputs"] == {"x_masked": acc1, "r_c": acc1, "r_lo": a}
    assert act["outputs"] == {"y_low": a, "carry": 1, "sign": 1}
    out = tmp_path / "c.txt"
    run("compile", "tiny", "--emit", "bristol", "--layer", 2, "--unmasked", "-o", out)
    first = out.read_text().splitlines()
    acc2 = stats["layers"][1]["acc_bits"]
    assert first[1] == f"1 {acc2}" and first[2] == f"1 {a}"
    run("compile", "tiny", "--emit", "dot", "-o", tmp_path / "c.dot")
    assert (tmp_path / "c.dot").read_text().startswith("digraph")
    assert "act1" in run("compile", "tiny", "--emit", "ir").output


@pytest.mark.parametrize("args,message", [
    (("compile", "nonexistent-model"), "no spec file 'nonexistent-model'"),
    (("compile", "tiny", "--emit", "bristol", "--layer", 3), "layer 3 has no activation circuit"),
    (("compile", "tiny", "--layer", 9), "no layer 9"),
    (("denoise", "missing.png", "-o", "x.png", "--model", "tiny"), "no such image file"),
    (("denoise", "{clean}", "-o", "{tmp}/x.png", "--model", "tiny", "--stride", 2),
     "stride must be between 1 and the output size 1"),
    (("denoise", "{clean}", "-o", "{tmp}/x.png", "--model", "tiny", "--backend", "magic"),
     "unknown backend 'magic'"),
    (("denoise", "{clean}", "-o", "{tmp}/nodir/x.png", "--model", "tiny"), "does not exist"),
])
def test_errors_are_one_line(tmp_path, clean_png, args, message):
    args = [str(a).format(clean=clean_png, tmp=tmp_path) for a in args]
    res = run(*args, ok=False)
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert "Traceback" not in res.output
    assert not (tmp_path / "x.png").exists()


def test_spec_error_is_file_line_col(tmp_path):
    spec = tmp_path / "bad.veil"
    spec.write_text("model m {\n    patch 5 -> 1\n    dense 25 -> 8 relu\n}\n")
    res = run("compile", spec, ok=False)
    assert res.stderr.strip().startswith(f"{spec}:")
    assert len(res.stderr.strip().splitlines()) == 1


def test_psnr_size_mismatch(tmp_path, clean_png):
    other = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(other)
    res = run("psnr", clean_png, other, ok=False)
    assert "wrong image size" in res.stderr


def test_check_plaintext_paths(tmp_path):
    res = run("check", "tiny", "--backends", "plaintext", "--patches", 5)
    assert "5 patches" in res.output


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "veil.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "denoise" in out.stdout


def test_colour_16bit_tiff_denoised_per_channel(tmp_path):
    import tifffile
    rng = np.random.default_rng(5)
    base = np.clip(rng.normal(30000, 8000, (24, 20, 1)), 0, 65535)
    img = np.concatenate([base, base * 0.5, 65535 - base], axis=2).astype(np.uint16)
    tifffile.imwrite(tmp_path / "c.tif", img)
    run("denoise", tmp_path / "c.tif", "-o", tmp_path / "d.tif", "--model", "tiny", "--quiet")
    out = tifffile.imread(tmp_path / "d.tif")
    assert out.shape == img.shape and out.dtype == np.uint16
    # each channel is denoised on its own: the same as denoising it as a grey image
    tifffile.imwrite(tmp_path / "g.tif", img[:, :, 2])
    run("denoise", tmp_path / "g.tif", "-o", tmp_path / "g_out.tif", "--model", "tiny", "--quiet")
    assert np.array_equal(tifffile.imread(tmp_path / "g_out.tif"), out[:, :, 2])


def test_check_exits_non_zero_on_a_difference():
    from veil.backends.plaintext import PlaintextBackend
    from veil.backends.registry import _BACKENDS, register

    class OffByOne(PlaintextBackend):
        name = "off-by-one-test"

        def run_fixed(self, program, x):
            out = super().run_fixed(program, x)
            out[1, 0] += 1
            return out
    register(OffByOne)
    try:
        res = run("check", "tiny", "--backends", "plaintext,off-by-one-test", "--patches", 4,
                  ok=False)
    finally:
        del _BACKENDS["off-by-one-test"]
    assert res.exit_code == 1
    assert "3/4 patches bit-identical; first difference in patch 1" in res.output
