"""The report folder appears whole or not at all, and never takes a folder it should not."""
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import veil.models.report.denoise as report_denoise
import veil.models.report.sections as sections
from veil.cli import main
from veil.models.report.folder import MARKER
from veil.util.errors import ImageError


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def noisy(tmp_path):
    path = tmp_path / "noisy.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (6, 7), np.uint8)).save(path)
    return path


def denoise(noisy, folder, *extra):
    return run("denoise", noisy, "-o", folder / "out.png", "--model", "tiny", "--quiet",
               "--report", folder / "rep", *extra)


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def no_work(*args, **kwargs):
    raise AssertionError("the run started before the report folder was checked")


def one_line_error(res, message):
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


@pytest.mark.parametrize("setup,message", [
    (lambda rep: (rep.mkdir(), (rep / "notes.txt").write_text("mine")),
     "exists and is not an earlier Veil report"),
    (lambda rep: rep.write_text("a file"), "is a file"),
])
def test_refused_before_any_work_and_untouched(tmp_path, noisy, monkeypatch, setup, message):
    monkeypatch.setattr(report_denoise, "run_denoise", no_work)
    setup(tmp_path / "rep")
    before = listing(tmp_path)
    one_line_error(denoise(noisy, tmp_path), message)
    assert listing(tmp_path) == before


def test_missing_parent_refused(tmp_path, noisy):
    res = run("check", "tiny", "--patches", 1, "--report", tmp_path / "no" / "rep")
    one_line_error(res, "does not exist")


@pytest.mark.parametrize("swap", ["exchange", "two renames"])
def test_empty_folder_and_earlier_report_are_taken(tmp_path, noisy, monkeypatch, swap):
    """An earlier report is replaced whole, by one atomic exchange where the file system can
    (Linux), else by two renames; both leave nothing else behind."""
    if swap == "two renames":
        monkeypatch.setattr("veil.models.report.folder.exchange", lambda a, b: False)
    (tmp_path / "rep").mkdir()
    assert denoise(noisy, tmp_path).exit_code == 0
    (tmp_path / "rep" / "stale.png").write_bytes(b"from an earlier report")
    assert (tmp_path / "rep" / MARKER).is_file()
    assert denoise(noisy, tmp_path).exit_code == 0
    assert not (tmp_path / "rep" / "stale.png").exists()        # replaced whole
    assert (tmp_path / "rep" / "index.html").is_file()
    assert [p for p in listing(tmp_path) if p.startswith(".")] == []


@pytest.mark.parametrize("breaks", ["page", "output"])
def test_failure_leaves_no_folder_and_no_output(tmp_path, noisy, monkeypatch, breaks):
    """A failure after the images are written (the page, or OUT itself): neither the report
    folder nor OUT nor any temporary folder is left."""
    reached = []

    def broken(*args, **kwargs):
        reached.append(any(tmp_path.glob(".rep.*/noisy.png")))    # part-way through
        raise ImageError("disk full (injected)")

    if breaks == "page":
        monkeypatch.setattr(sections, "render", broken)
    else:
        monkeypatch.setattr(report_denoise, "write_image", broken)
    before = listing(tmp_path)
    one_line_error(denoise(noisy, tmp_path), "disk full (injected)")
    assert reached == [True]
    assert listing(tmp_path) == before


def test_failure_keeps_the_earlier_report(tmp_path, noisy, monkeypatch):
    assert denoise(noisy, tmp_path).exit_code == 0
    before = {p: p.read_bytes() for p in (tmp_path / "rep").iterdir()}
    def broken(page):
        raise ImageError("disk full (injected)")

    monkeypatch.setattr(sections, "render", broken)
    one_line_error(denoise(noisy, tmp_path, "--backend", "float"), "disk full (injected)")
    assert {p: p.read_bytes() for p in (tmp_path / "rep").iterdir()} == before


def test_reference_needs_report_and_the_right_size(tmp_path, noisy, monkeypatch):
    monkeypatch.setattr(report_denoise, "run_denoise", no_work)
    res = run("denoise", noisy, "-o", tmp_path / "out.png", "--model", "tiny",
              "--reference", noisy)
    one_line_error(res, "give --report DIR too")
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(small)
    one_line_error(denoise(noisy, tmp_path, "--reference", small), "wrong image size")
    assert listing(tmp_path) == ["noisy.png", "small.png"]


def test_missing_scikit_image_is_one_line(tmp_path, noisy, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "skimage.metrics", None)
    one_line_error(denoise(noisy, tmp_path, "--reference", noisy),
                   "pip install 'veil[report]'")
