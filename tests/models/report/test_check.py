"""`veil check --report`: the patches, each backend's outputs, their differences, and the
secure backend's phases as it counted them."""
import numpy as np
import pytest
from click.testing import CliRunner

import veil.models.report.check as report_check
from veil.backends.plaintext import PlaintextBackend
from veil.backends.yao.backend import YaoBackend
from veil.cli import main
from veil.models.catalog import compile_model
from veil.models.crosscheck import random_pixel_patches

from .reading import bars, images, parse, png

N, SEED = 5, 3      # 5 patches tile as 3 columns x 2 rows, the last cell empty


def run(*args, code=0):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == code, res.output + res.stderr
    return res


def tiled(patches: np.ndarray, size: int) -> np.ndarray:
    """The expected mosaic, built here: row-major in 3 columns, black past the last patch."""
    out = np.zeros((2 * size, 3 * size))
    for i, p in enumerate(patches):
        r, c = divmod(i, 3)
        out[r * size:(r + 1) * size, c * size:(c + 1) * size] = p.reshape(size, size)
    return np.rint(out).astype(np.uint8)


def test_secure_check_report(tmp_path, monkeypatch):
    seen = {}
    real_close = YaoBackend.close

    def spying_close(self):          # the phases as the backend holds them at the end
        seen.update({k: (p.seconds, p.up, p.down) for k, p in self.phases.items()})
        real_close(self)

    monkeypatch.setattr(YaoBackend, "close", spying_close)
    monkeypatch.setenv("VEIL_LANES", "1")
    res = run("check", "tiny", "--backends", "plaintext,yao", "--patches", N, "--seed", SEED,
              "--key-bits", 512, "--workers", 1, "--report", tmp_path / "rep")
    assert res.output.splitlines()[-1] == f"report: {tmp_path / 'rep' / 'index.html'}"
    rep = tmp_path / "rep"
    root = parse(rep)
    assert images(root) == ["inputs.png", "output-1-plaintext.png", "output-2-yao.png",
                            "difference-2-yao.png"]
    pixels = random_pixel_patches(N, 5, SEED)
    assert np.array_equal(png(rep / "inputs.png"), tiled(pixels, 5))
    program = compile_model("tiny", key_bits=512)
    expected = np.clip(PlaintextBackend().run_pixels(program, pixels), 0, 255)
    assert np.array_equal(png(rep / "output-1-plaintext.png"), tiled(expected, 1))
    assert np.array_equal(png(rep / "output-2-yao.png"), tiled(expected, 1))
    assert not png(rep / "difference-2-yao.png").any()
    assert root.find("p", "verdict")[0].text().startswith("bit-identical: yao vs plaintext")
    chart = bars(root)
    assert set(seen) == {"provisioning", "offline", "online"}
    for phase, (seconds, up, down) in seen.items():
        assert chart[phase, "seconds"] == seconds
        assert (chart[phase, "up"], chart[phase, "down"]) == (up, down)


def test_a_disagreement_shows(tmp_path, monkeypatch):
    """A second backend off by one in patch 4 (injected): exit 1, patch 4's cell lit."""
    real = report_check.run_check

    def off_by_one(*args, **kwargs):
        res = real(*args, **kwargs)
        res.results[1] = res.results[1].copy()
        res.results[1][4] += 1
        return res

    monkeypatch.setattr(report_check, "run_check", off_by_one)
    res = run("check", "tiny", "--backends", "plaintext,plaintext", "--patches", N, "--seed",
              SEED, "--report", tmp_path / "rep", code=1)
    assert "4/5 patches bit-identical; first difference in patch 4" in res.output
    diff = png(tmp_path / "rep" / "difference-2-plaintext.png")
    assert np.argwhere(diff).tolist() == [[1, 1]]     # patch 4: row 1, column 1
    root = parse(tmp_path / "rep")
    assert root.find("p", "verdict")[0].text().startswith("not bit-identical")
    assert root.find("p", "no-phases")


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "a&b\"c'"])
def test_spec_name_is_escaped(tmp_path, name):
    spec = tmp_path / f"{name}.veil"
    spec.write_text("model m {\n patch 3 -> 1 stride 1\n normalise p -> p / 255\n"
                    " input fix<10,8>\n activation fix<10,8>\n weight fix<10,8>\n"
                    " bias fix<20,16>\n coefficient frac 8\n weights random seed 1\n"
                    " dense 9 -> 1\n}\n")
    run("check", spec, "--patches", 2, "--report", tmp_path / "rep")
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "<img src=x" not in html and name not in html
    assert str(spec) in parse(tmp_path / "rep").find("table", "facts")[0].text()
