"""Reading and writing images: 8- and 16-bit grayscale or colour PNG, TIFF and JPEG.

Pixels are handed to the pipeline as float64 on the 0..255 scale (16-bit values are divided
by 257), one channel at a time; the output is written at the input's bit depth. Writes are
atomic (a temporary file in the same folder, then os.replace), so a failed run never leaves
a partial output file behind.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from veil.util.atomic import atomic_target
from veil.util.errors import ImageError

TIFF_SUFFIXES = {".tif", ".tiff"}
WRITABLE = {".png", ".tif", ".tiff", ".jpg", ".jpeg"}


@dataclass(frozen=True)
class LoadedImage:
    channels: np.ndarray      # float64, (C, H, W), 0..255 scale
    bit_depth: int            # 8 or 16
    colour: bool

    @property
    def shape(self) -> tuple[int, int]:
        return self.channels.shape[1:]

    @property
    def size_text(self) -> str:
        """WIDTHxHEIGHT, then xCHANNELS for colour."""
        c, h, w = self.channels.shape
        return f"{w}x{h}" + (f"x{c}" if c > 1 else "")


def channels_of(arr: np.ndarray, path: str | os.PathLike) -> LoadedImage:
    """Integer pixels as a file holds them (`path` names it in errors) -> LoadedImage."""
    if arr.dtype == np.uint8 or arr.dtype == bool:
        depth, data = 8, arr.astype(np.float64) * (255.0 if arr.dtype == bool else 1.0)
    elif arr.dtype in (np.uint16, np.int32) and arr.max(initial=0) <= 65535:
        depth, data = 16, arr.astype(np.float64) / 257.0
    else:
        raise ImageError(f"{path}: unsupported pixel type {arr.dtype} (8- or 16-bit integers expected)")
    if data.ndim == 2:
        return LoadedImage(data[None], depth, False)
    if data.ndim == 3 and data.shape[0] in (3, 4) and data.shape[2] > 4:
        data = np.moveaxis(data, 0, 2)     # planar TIFF: (C, H, W)
    if data.ndim == 3 and data.shape[2] in (3, 4):
        return LoadedImage(np.moveaxis(data[..., :3], 2, 0).copy(), depth, True)
    if data.ndim == 3 and data.shape[2] in (1, 2):
        return LoadedImage(data[None, :, :, 0].copy(), depth, False)
    raise ImageError(f"{path}: unsupported image shape {arr.shape}")


def _png_header(path: Path) -> tuple[int, int] | None:
    """(bit depth, colour type) from a PNG's IHDR chunk, or None if it is not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return head[24], head[25]


def read_image(path: str | os.PathLike) -> LoadedImage:
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such image file")
    header = _png_header(path)
    if header is not None and header[0] == 16 and header[1] in (2, 4, 6):
        # Pillow would silently reduce it to 8 bits per channel.
        raise ImageError(f"{path}: 16-bit colour PNG is not supported; convert it to a "
                         f"16-bit TIFF")
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile
            arr = tifffile.imread(path)
        else:
            with Image.open(path) as im:
                if im.mode == "P":
                    im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                elif im.mode == "I;16B":
                    im = im.convert("I;16")
                elif im.mode in ("I", "F"):
                    raise ImageError(f"{path}: unsupported mode {im.mode} (8- or 16-bit images only)")
                arr = np.array(im)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"{path}: cannot read image ({exc})") from None
    if arr.size == 0:
        raise ImageError(f"{path}: empty image")
    return channels_of(arr, path)


def to_integers(channels: np.ndarray, bit_depth: int) -> np.ndarray:
    """(C, H, W) floats on the 0..255 scale -> (H, W) or (H, W, C) integers, rounded and clipped."""
    scale, dtype = (1.0, np.uint8) if bit_depth == 8 else (257.0, np.uint16)
    ints = np.clip(np.rint(channels * scale), 0, 255 * scale).astype(dtype)
    return ints[0] if ints.shape[0] == 1 else np.moveaxis(ints, 0, 2)


def check_output(path: str | os.PathLike, bit_depth: int, n_channels: int) -> Path:
    """Fail before any work is done if `path` cannot take this image."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE:
        raise ImageError(f"{path}: unsupported output type {suffix or '(none)'} "
                         f"(use .png, .tif or .jpg)")
    if bit_depth == 16 and suffix in (".jpg", ".jpeg"):
        raise ImageError(f"{path}: JPEG cannot hold 16-bit pixels; use .png or .tif")
    if bit_depth == 16 and n_channels > 1 and suffix == ".png":
        raise ImageError(f"{path}: 16-bit colour is written as TIFF; use .tif")
    if not path.parent.is_dir():
        raise ImageError(f"{path}: folder {path.parent} does not exist")
    try:                                   # writable? (cheap, and before hours of work)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise ImageError(f"{path}: cannot write to {path.parent} ({exc.strerror})") from None
    return path


def write_image(path: str | os.PathLike, channels: np.ndarray, bit_depth: int) -> None:
    path = check_output(path, bit_depth, channels.shape[0])
    suffix = path.suffix.lower()
    ints = to_integers(channels, bit_depth)
    with atomic_target(path, suffix=suffix) as tmp:
        if suffix in TIFF_SUFFIXES:
            import tifffile
            tifffile.imwrite(tmp, ints)
        elif suffix in (".jpg", ".jpeg"):
            Image.fromarray(ints).save(tmp, quality=95)
        else:
            Image.fromarray(ints).save(tmp)
