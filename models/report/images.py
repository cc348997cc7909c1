"""The report's pictures as 8-bit PNG files: images for display, differences made visible,
and patches tiled into one mosaic."""
from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from veil.models.images import to_integers

# A difference of any size shows as at least this grey; the largest as white.
DIFFERENCE_FLOOR = 64


def png_bytes(channels: np.ndarray) -> bytes:
    """(C, H, W) on the 0..255 scale (C = 1 or 3) -> an 8-bit grey or RGB PNG."""
    buf = io.BytesIO()
    Image.fromarray(to_integers(channels, 8)).save(buf, format="PNG")
    return buf.getvalue()


def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b|, the largest over the channels: (C, H, W) twice -> (H, W)."""
    return np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max(axis=0)


def visible_difference(diff: np.ndarray) -> np.ndarray:
    """(H, W) non-negative -> (1, H, W) on 0..255: zero stays black (so bit-identical
    results give an all-black picture), any other value at least DIFFERENCE_FLOOR."""
    top = float(diff.max(initial=0.0))
    if top == 0:
        return np.zeros((1, *diff.shape))
    shown = DIFFERENCE_FLOOR + (255 - DIFFERENCE_FLOOR) * diff / top
    return np.where(diff > 0, shown, 0.0)[None]


def mosaic(patches: np.ndarray, size: int) -> np.ndarray:
    """(n, size*size) patches -> (1, rows*size, cols*size), row by row in a near-square
    grid; cells past the last patch are black."""
    n = len(patches)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    out = np.zeros((rows * size, cols * size))
    for i, patch in enumerate(np.asarray(patches, np.float64).reshape(n, size, size)):
        r, c = divmod(i, cols)
        out[r * size:(r + 1) * size, c * size:(c + 1) * size] = patch
    return out[None]
