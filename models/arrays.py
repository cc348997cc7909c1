"""Images as numpy arrays (the Python API): checked, then converted to and from the channels
the pipeline works on by the very functions that read and write image files (images.py), so
an array and a file of the same pixels are denoised alike."""
from __future__ import annotations

import numpy as np

from veil.models.images import LoadedImage, channels_of, to_integers
from veil.util.errors import ImageError


def image_of(array: np.ndarray, what: str = "image") -> LoadedImage:
    """A uint8 or uint16 array, (H, W) grey or (H, W, 3) colour -> LoadedImage; anything else
    is an ImageError that names `what` (the argument) and what is wrong with it."""
    if not isinstance(array, np.ndarray):
        raise ImageError(f"{what}: a numpy array expected, got {type(array).__name__}")
    if array.dtype != np.uint8 and array.dtype != np.uint16:
        raise ImageError(f"{what}: unsupported dtype {array.dtype} (uint8 or uint16 expected)")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ImageError(f"{what}: unsupported shape {array.shape} ((H, W) grey or (H, W, 3) "
                         f"colour expected)")
    if array.size == 0:
        raise ImageError(f"{what}: empty image, shape {array.shape}")
    return channels_of(array, what)


def array_of(channels: np.ndarray, bit_depth: int) -> np.ndarray:
    """(C, H, W) on the 0..255 scale -> (H, W) or (H, W, 3), uint8 or uint16 as `bit_depth`."""
    return to_integers(channels, bit_depth)
