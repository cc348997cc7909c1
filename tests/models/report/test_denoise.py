"""`veil denoise --report`: the page shows what the run made, with numbers computed here
independently (scikit-image, a separate plaintext run, `veil compile --emit stats`)."""
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import veil.models.report.denoise as report_denoise
from veil.cli import main
from veil.models.catalog import MODELS_DIR
from veil.models.report.folder import MARKER

from .reading import bars, circuit_levels, images, parse, png, summary_phases

KEY_BITS = "512"     # the test floor: this is about the page, not the protocol's strength
H, W = 8, 9          # SSIM's 7x7 window fits; not square, so a transposition would show


def run(*args, ok=True):
    res = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert res.exit_code == 0, res.output + res.stderr
    return res


def make_images(folder):
    y, x = np.mgrid[0:H, 0:W]
    clean = (100 + 12 * x + 5 * y).astype(np.uint8)
    noisy = np.clip(clean + np.random.default_rng(5).normal(0, 25, clean.shape).round(),
                    0, 255).astype(np.uint8)
    Image.fromarray(clean).save(folder / "clean.png")
    Image.fromarray(noisy).save(folder / "noisy.png")
    return folder / "clean.png", folder / "noisy.png"


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    """One secure run with a report and a reference (the expensive part, shared)."""
    folder = tmp_path_factory.mktemp("secure")
    clean, noisy = make_images(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VEIL_LANES", "1")      # one session: less to set up for 72 patches
        res = run("denoise", noisy, "-o", folder / "out.png", "--model", "tiny", "--backend",
                  "yao", "--key-bits", KEY_BITS, "--workers", 1, "--quiet", "--report",
                  folder / "rep", "--reference", clean)
    return folder, res.stderr


def test_every_image_is_a_png_of_the_image_size(secure):
    folder, _ = secure
    rep = folder / "rep"
    srcs = images(parse(rep))
    assert srcs == ["reference.png", "noisy.png", "result-plaintext.png", "result-yao.png",
                    "difference.png"]
    for src in srcs:
        assert png(rep / src).shape == (H, W)
    assert sorted(p.name for p in rep.iterdir()) == sorted(srcs + ["index.html", MARKER])
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []   # no leftovers


def test_results_shown_are_the_output_and_an_independent_plaintext_run(secure, tmp_path):
    folder, _ = secure
    rep = folder / "rep"
    assert np.array_equal(png(rep / "result-yao.png"), png(folder / "out.png"))
    assert np.array_equal(png(rep / "noisy.png"), png(folder / "noisy.png"))
    run("denoise", folder / "noisy.png", "-o", tmp_path / "plain.png", "--model", "tiny",
        "--backend", "plaintext", "--quiet")
    assert np.array_equal(png(rep / "result-plaintext.png"), png(tmp_path / "plain.png"))


def test_difference_is_black_and_says_bit_identical(secure):
    folder, _ = secure
    assert not png(folder / "rep" / "difference.png").any()
    verdict = parse(folder / "rep").find("p", "verdict")[0]
    assert "identical" in verdict.classes and verdict.text().startswith("bit-identical")


def test_psnr_and_ssim_equal_scikit_image(secure):
    folder, _ = secure
    clean = png(folder / "clean.png").astype(np.float64)
    rows = parse(folder / "rep").find("table", "quality")[0].find("tr")[1:]
    shown = {r.find("td")[0].text(): (float(r.find("td", "psnr")[0].attrs["data-value"]),
                                      float(r.find("td", "ssim")[0].attrs["data-value"]),
                                      r.find("td", "psnr")[0].text()) for r in rows}
    files = {"noisy input": "noisy.png", "plaintext result": "rep/result-plaintext.png",
             "yao result": "out.png"}
    assert set(shown) == set(files)
    for label, name in files.items():
        img = png(folder / name).astype(np.float64)
        p = peak_signal_noise_ratio(clean, img, data_range=255)
        s = structural_similarity(clean, img, data_range=255, win_size=7)
        assert shown[label][0] == pytest.approx(p, abs=1e-9)
        assert shown[label][1] == pytest.approx(s, abs=1e-9)
        assert shown[label][2] == f"{p:.2f} dB"
    assert shown["yao result"][0] > shown["noisy input"][0]    # it did denoise


def test_phase_chart_is_the_printed_summary(secure):
    folder, stderr = secure
    printed = summary_phases(stderr)
    assert set(printed) >= {"provisioning", "online"}
    chart = bars(parse(folder / "rep"))
    for phase, (seconds, up, down) in printed.items():
        assert f"{chart[phase, 'seconds']:.1f}" == seconds
        assert f"{chart[phase, 'up'] / 1e6:.1f}" == up
        assert f"{chart[phase, 'down'] / 1e6:.1f}" == down
    assert chart["provisioning", "down"] > 10_000          # the upload of the model: real bytes
    table = parse(folder / "rep").find("table", "phases")[0].find("tr")[1:]
    for row in table:
        phase, _, up, down = (td.text() for td in row.find("td"))
        assert (int(up.replace(",", "")), int(down.replace(",", ""))) == (
            chart[phase, "up"], chart[phase, "down"])


def test_circuits_are_what_compile_emits(secure):
    folder, _ = secure
    root = parse(folder / "rep")
    stats = json.loads(run("compile", "tiny", "--emit", "stats", "--json",
                           "--key-bits", KEY_BITS).output)
    masked = [L["activation"]["masked"] for L in stats["layers"] if L["activation"]]
    levels = circuit_levels(root)
    assert len(levels) == len(masked) == 2
    for chart, m in zip(levels, masked):
        assert sum(a for a, _ in chart) == m["and"]
        assert sum(f for _, f in chart) == m["xor"] + m["not"]
        assert len(chart) - 1 >= m["and_depth"] and chart[m["and_depth"]][0] > 0
    text = run("compile", "tiny", "--key-bits", KEY_BITS).output
    assert root.find("pre", "stats")[0].text() == text


def test_a_disagreement_shows(tmp_path, monkeypatch):
    """A secure result one pixel off (injected) is not called bit-identical, and the
    difference picture is black everywhere else."""
    real = report_denoise.run_denoise

    def one_pixel_off(noisy, output, spec, backend, *args, **kwargs):
        res = real(noisy, output, spec, "plaintext", *args, **kwargs)
        if backend == "yao":
            res.backend = "yao"
            res.result[0, 3, 4] = 255 - res.result[0, 3, 4]
        return res

    monkeypatch.setattr(report_denoise, "run_denoise", one_pixel_off)
    _, noisy = make_images(tmp_path)
    run("denoise", noisy, "-o", tmp_path / "out.png", "--model", "tiny", "--backend", "yao",
        "--quiet", "--report", tmp_path / "rep")
    diff = png(tmp_path / "rep" / "difference.png")
    assert np.argwhere(diff).tolist() == [[3, 4]] and diff[3, 4] >= 64
    verdict = parse(tmp_path / "rep").find("p", "verdict")[0]
    assert "different" in verdict.classes
    assert verdict.text().startswith(f"not bit-identical: 1 of {H * W} pixels")


def test_user_text_is_escaped(tmp_path):
    """A spec and an image whose paths hold markup show as text; the page runs no script."""
    odd = tmp_path / "<script>alert(1)<"
    odd.mkdir()
    shutil.copy(MODELS_DIR / "tiny.veil", odd / "t<b>.veil")
    shutil.copy(MODELS_DIR / "tiny.npz", odd / "tiny.npz")
    _, noisy = make_images(odd)
    run("denoise", noisy, "-o", tmp_path / "out.png", "--model", odd / "t<b>.veil",
        "--backend", "plaintext", "--quiet", "--report", tmp_path / "rep")
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "<script" not in html.lower() and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;" in html
    root = parse(tmp_path / "rep")
    assert str(odd / "t<b>.veil") in root.find("table", "facts")[0].text()
    assert f"noisy input: {noisy}" in [f.text() for f in root.find("figcaption")]
    # Self-contained: nothing is fetched but the PNGs beside the page.
    refs = [e.attrs.get("src") or e.attrs.get("href") for e in root.walk()
            if "src" in e.attrs or "href" in e.attrs]
    assert all(r == "data:," or (r.endswith(".png") and "/" not in r) for r in refs), refs


def test_plaintext_alone_compares_nothing(tmp_path):
    _, noisy = make_images(tmp_path)
    run("denoise", noisy, "-o", tmp_path / "out.png", "--model", "tiny", "--quiet",
        "--report", tmp_path / "rep")
    root = parse(tmp_path / "rep")
    assert images(root) == ["noisy.png", "result-plaintext.png"]
    assert root.find("p", "verdict")[0].text().startswith("Only the plaintext backend ran")
    assert root.find("p", "no-phases") and not root.find("figure", "chart")
