"""PSNR (the project's own, as `veil psnr` prints it) and SSIM (scikit-image's, an optional
dependency: the `report` extra) of images against a reference."""
from __future__ import annotations

import numpy as np

from veil.models.noise import psnr
from veil.util.errors import UsageError

SSIM_WINDOW = 7      # scikit-image's default; smaller (odd) for images under 7 pixels a side


def require_ssim() -> None:
    """Before any work: a one-line error if scikit-image is missing."""
    try:
        import skimage.metrics  # noqa: F401
    except ImportError:
        raise UsageError("--reference needs scikit-image for SSIM: pip install 'veil[report]'") from None


def ssim_window(shape: tuple[int, int]) -> int | None:
    """The SSIM window for an image of this (H, W): 7, or the largest odd side that fits;
    None below 3 pixels a side, where SSIM means nothing."""
    side = min(SSIM_WINDOW, *shape)
    side -= 1 - side % 2
    return side if side >= 3 else None


def ssim(reference: np.ndarray, image: np.ndarray) -> float | None:
    """(C, H, W) on the 0..255 scale; None if the image is too small."""
    from skimage.metrics import structural_similarity
    win = ssim_window(reference.shape[1:])
    if win is None:
        return None
    return float(structural_similarity(reference, image, data_range=255.0, win_size=win,
                                       channel_axis=0))


def quality_rows(reference: np.ndarray, images: list[tuple[str, np.ndarray]]
                 ) -> list[tuple[str, float, float | None]]:
    """(label, PSNR in dB, SSIM) of each image against the reference."""
    return [(label, float(psnr(reference, img)), ssim(reference, img)) for label, img in images]
