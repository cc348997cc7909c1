"""The report as a person sees it: opened in headless Chromium (Debian's, driven by
Playwright), its pictures load, the PSNR and the verdict are visible, the charts are drawn,
and the console stays clean."""
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from veil.cli import main
from veil.models.catalog import MODELS_DIR

CHROMIUM = "/usr/bin/chromium"


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright; it is in the test extra)"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.mark.slow
def test_report_in_chromium(tmp_path, monkeypatch):
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    clean = tmp_path / "clean.png"
    shutil.copy(MODELS_DIR / "samples" / "camera64_clean.png", clean)
    noisy = tmp_path / "noisy <b>.png"
    shutil.copy(MODELS_DIR / "samples" / "camera64_noisy.png", noisy)
    small = tmp_path / "small_noisy.png"        # a 16x12 crop: the tiny secure run stays short
    Image.fromarray(np.array(Image.open(noisy))[20:32, 20:36]).save(small)
    monkeypatch.setenv("VEIL_LANES", "1")
    res = CliRunner().invoke(main, [
        "denoise", str(small), "-o", str(tmp_path / "out.png"), "--model", "tiny",
        "--backend", "yao", "--key-bits", "512", "--workers", "1", "--quiet",
        "--report", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.stderr
    res = CliRunner().invoke(main, [
        "denoise", str(noisy), "-o", str(tmp_path / "out64.png"), "--model", "compact",
        "--quiet", "--report", str(tmp_path / "rep64"), "--reference", str(clean)])
    assert res.exit_code == 0, res.stderr

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            for folder, checks in ((tmp_path / "rep", _secure), (tmp_path / "rep64", _quality)):
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                problems = []
                page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
                page.goto((folder / "index.html").as_uri())
                page.wait_for_load_state("load")
                loaded = page.evaluate("Array.from(document.images).map(i => "
                                       "[i.getAttribute('src'), i.complete, i.naturalWidth])")
                assert loaded and all(ok and w > 0 for _, ok, w in loaded), loaded
                checks(page)
                page.screenshot(path=str(folder.parent / f"{folder.name}.png"), full_page=True)
                assert problems == []
                page.close()
        finally:
            browser.close()


def _secure(page):
    verdict = page.locator("p.verdict")
    assert verdict.is_visible() and verdict.inner_text().startswith("bit-identical")
    bars = page.locator("figure.chart svg rect.bar")
    assert bars.count() == 9          # 3 phases: seconds, up, down
    box = page.locator("figure.chart svg").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
    assert max(widths) > 250          # the longest bar spans its panel: drawn to scale
    assert page.locator("figure.circuit svg").count() == 2
    assert page.locator("figure.circuit svg g.level").first.is_visible()


def _quality(page):
    psnr = page.locator("td.psnr")
    assert psnr.count() == 2 and psnr.first.is_visible()
    texts = [psnr.nth(i).inner_text() for i in range(2)]
    assert all(re.fullmatch(r"\d+\.\d\d dB", t) for t in texts), texts
    assert page.get_by_text("noisy input: ").first.inner_text().endswith("noisy <b>.png")
