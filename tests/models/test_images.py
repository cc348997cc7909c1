import os

import numpy as np
import pytest
import tifffile
from PIL import Image

from veil.models.images import ImageError, read_image, to_integers, write_image


def test_png_8bit_gray_round_trip(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (20, 30), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    img = read_image(tmp_path / "a.png")
    assert img.bit_depth == 8 and not img.colour and img.shape == (20, 30)
    write_image(tmp_path / "b.png", img.channels, img.bit_depth)
    assert np.array_equal(np.array(Image.open(tmp_path / "b.png")), arr)


def test_png_16bit_gray_round_trip(tmp_path):
    arr = np.random.default_rng(1).integers(0, 65536, (10, 12), dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "a.png")
    img = read_image(tmp_path / "a.png")
    assert img.bit_depth == 16
    assert img.channels.max() <= 255.0
    write_image(tmp_path / "b.png", img.channels, 16)
    back = np.array(Image.open(tmp_path / "b.png"))
    assert back.dtype == np.uint16 and np.array_equal(back, arr)


def test_colour_tiff_16bit_and_jpeg(tmp_path):
    arr = np.random.default_rng(2).integers(0, 65536, (9, 7, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "c.tif", arr)
    img = read_image(tmp_path / "c.tif")
    assert img.colour and img.bit_depth == 16 and img.channels.shape == (3, 9, 7)
    write_image(tmp_path / "d.tif", img.channels, 16)
    assert np.array_equal(tifffile.imread(tmp_path / "d.tif"), arr)
    rgb = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "e.jpg")
    j = read_image(tmp_path / "e.jpg")
    assert j.colour and j.bit_depth == 8


def test_errors_are_one_line_and_leave_nothing(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot read image"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(ImageError, match="no such image"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="unsupported output type"):
        write_image(tmp_path / "out.bmp", np.zeros((1, 4, 4)), 8)
    with pytest.raises(ImageError, match="JPEG cannot hold 16-bit"):
        write_image(tmp_path / "out.jpg", np.zeros((1, 4, 4)), 16)
    assert sorted(os.listdir(tmp_path)) == ["junk.png"]


def test_to_integers_rounds_and_clips():
    ints = to_integers(np.array([[[-3.0, 0.4, 254.6, 300.0]]]), 8)
    assert ints.tolist() == [[0, 0, 255, 255]]


def test_16bit_colour_png_is_refused_not_truncated(tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x12\x34" * 3 * 2 for _ in range(2))      # 2x2 RGB, 16 bit
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 16, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    (tmp_path / "rgb16.png").write_bytes(png)
    with pytest.raises(ImageError, match="16-bit colour PNG is not supported"):
        read_image(tmp_path / "rgb16.png")


def test_planar_tiff_and_unwritable_output(tmp_path):
    arr = np.random.default_rng(4).integers(0, 256, (3, 6, 9), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "planar.tif", arr, planarconfig="separate", photometric="rgb")
    img = read_image(tmp_path / "planar.tif")
    assert img.colour and img.channels.shape == (3, 6, 9)
    assert np.array_equal(img.channels, arr.astype(float))
    from veil.models.images import check_output
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    import os
    if os.geteuid() != 0:          # root may write anywhere; /proc refuses everyone
        with pytest.raises(ImageError, match="cannot write"):
            check_output(locked / "x.png", 8, 1)
    with pytest.raises(ImageError, match="cannot write|does not exist"):
        check_output("/proc/x.png", 8, 1)
