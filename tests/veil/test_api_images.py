"""veil.load_image, save_image, add_noise and psnr on numpy arrays: files read and written
as other tools see them, atomic writes, the commands' results, one-line errors."""
import os

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

import veil
from veil.cli import main

RNG = np.random.default_rng(7)
GREY8 = RNG.integers(0, 256, (12, 17), dtype=np.uint8)
RGB8 = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
GREY16 = RNG.integers(0, 65536, (10, 13), dtype=np.uint16)
RGB16 = RNG.integers(0, 65536, (8, 6, 3), dtype=np.uint16)


@pytest.mark.parametrize("arr,suffix", [(GREY8, ".png"), (RGB8, ".png"), (GREY16, ".png"),
                                        (GREY16, ".tif"), (RGB16, ".tif"), (RGB8, ".tif")])
def test_save_then_load_round_trips_as_other_readers_see_it(tmp_path, arr, suffix):
    path = tmp_path / f"a{suffix}"
    veil.save_image(arr, path)
    on_disk = tifffile.imread(path) if suffix == ".tif" else np.array(Image.open(path))
    assert on_disk.dtype == arr.dtype and np.array_equal(on_disk, arr)
    back = veil.load_image(str(path))
    assert back.dtype == arr.dtype and np.array_equal(back, arr)


def test_load_drops_alpha_and_reads_what_pillow_wrote(tmp_path):
    rgba = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert np.array_equal(veil.load_image(tmp_path / "a.png"), rgba[:, :, :3])


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "keep.png"
    veil.save_image(GREY8, path)
    before = path.read_bytes()

    def half_then_fail(self, fp, *args, **kwargs):
        with open(fp, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError("disk full")
    monkeypatch.setattr(Image.Image, "save", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        veil.save_image(RGB8, path)
    with pytest.raises(OSError, match="disk full"):
        veil.save_image(RGB8, tmp_path / "new.png")
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["keep.png"]


def test_save_refuses_what_it_cannot_write_and_writes_nothing(tmp_path):
    cases = [(GREY8, "a.bmp", "unsupported output type .bmp"),
             (GREY16, "a.jpg", "JPEG cannot hold 16-bit"),
             (RGB16, "a.png", "16-bit colour is written as TIFF"),
             (GREY8.astype(np.int64), "a.png", "unsupported dtype int64"),
             (GREY8[:, :, None], "a.png", "unsupported shape (12, 17, 1)"),
             (GREY8, "missing/a.png", "does not exist")]
    for arr, name, words in cases:
        with pytest.raises(veil.ImageError) as info:
            veil.save_image(arr, tmp_path / name)
        assert words in str(info.value) and "\n" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_load_errors(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(veil.ImageError, match="cannot read image"):
        veil.load_image(tmp_path / "junk.png")
    with pytest.raises(veil.ImageError, match="no such image file"):
        veil.load_image(tmp_path / "missing.png")


@pytest.mark.parametrize("arr", [GREY8, RGB16])
def test_add_noise_is_the_commands(tmp_path, arr):
    suffix = ".tif" if arr.dtype == np.uint16 else ".png"
    veil.save_image(arr, tmp_path / f"clean{suffix}")
    res = CliRunner().invoke(main, ["noise", str(tmp_path / f"clean{suffix}"), "-o",
                                    str(tmp_path / f"noisy{suffix}"), "--sigma", "12",
                                    "--seed", "5"])
    assert res.exit_code == 0, res.output + res.stderr
    noisy = veil.add_noise(arr, sigma=12, seed=5)
    assert noisy.dtype == arr.dtype and noisy.shape == arr.shape
    assert np.array_equal(noisy, veil.load_image(tmp_path / f"noisy{suffix}"))


def test_add_noise_has_the_asked_spread_and_seed():
    flat = np.full((200, 200), 128, np.uint8)         # mid-grey: clipping never bites
    noisy = veil.add_noise(flat, sigma=25, seed=1)
    spread = (noisy.astype(float) - 128).std()
    assert 24 < spread < 26 and abs((noisy.astype(float) - 128).mean()) < 0.5
    assert np.array_equal(noisy, veil.add_noise(flat, 25, 1))
    assert not np.array_equal(noisy, veil.add_noise(flat, 25, 2))
    assert np.array_equal(veil.add_noise(RGB8, sigma=0, seed=3), RGB8)
    for kwargs, words in [(dict(sigma=-1), "sigma must be a non-negative number"),
                          (dict(sigma=float("nan")), "sigma must be"),
                          (dict(sigma="25"), "sigma must be"),
                          (dict(seed=-1), "seed must be a non-negative integer"),
                          (dict(seed=1.5), "seed must be")]:
        with pytest.raises(veil.UsageError, match=words):
            veil.add_noise(flat, **{"sigma": 25, "seed": 0, **kwargs})
    with pytest.raises(veil.ImageError, match="unsupported dtype float64"):
        veil.add_noise(flat.astype(float), 25, 0)


def test_psnr_against_its_definition():
    a = RNG.integers(0, 256, (20, 30), dtype=np.uint8)
    b = np.clip(a.astype(int) + RNG.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    assert veil.psnr(a, b) == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-9)
    assert veil.psnr(a, a) == float("inf")
    # on the 0..255 scale: a 16-bit copy of the picture is the same picture
    assert veil.psnr(a, a.astype(np.uint16) * 257) == float("inf")
    assert veil.psnr(a.astype(np.uint16) * 257, b) == pytest.approx(veil.psnr(a, b), abs=1e-9)


def test_psnr_errors_are_one_line(tmp_path):
    with pytest.raises(veil.ImageError) as info:
        veil.psnr(GREY8, GREY8[:, :5])
    assert str(info.value) == "wrong image size: reference is 17x12, image is 5x12"
    with pytest.raises(veil.ImageError, match="reference is 11x9x3, image is 11x9$"):
        veil.psnr(RGB8, RGB8[:, :, 0].copy())
    with pytest.raises(veil.ImageError, match="image: unsupported dtype float32"):
        veil.psnr(GREY8, GREY8.astype(np.float32))
    with pytest.raises(veil.ImageError, match="reference: a numpy array expected"):
        veil.psnr([[1, 2]], GREY8)
    # the command says the same, naming its files
    veil.save_image(GREY8, tmp_path / "a.png")
    veil.save_image(np.ascontiguousarray(GREY8[:, :5]), tmp_path / "b.png")
    res = CliRunner().invoke(main, ["psnr", str(tmp_path / "a.png"), str(tmp_path / "b.png")])
    assert res.exit_code == 1
    assert res.stderr == f"error: wrong image size: {tmp_path / 'a.png'} is 17x12, " \
                         f"{tmp_path / 'b.png'} is 5x12\n"
