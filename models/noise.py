"""Synthetic noise and the quality measure."""
from __future__ import annotations

import numpy as np

from veil.models.images import LoadedImage
from veil.util.errors import ImageError


def add_noise(channels: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """White Gaussian noise of standard deviation sigma (0..255 scale), rounded and clipped
    as a saved image would be. Simulation noise, not a secret: a seeded numpy Generator."""
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(channels + rng.normal(0.0, sigma, channels.shape)), 0.0, 255.0)


def psnr(reference: np.ndarray, image: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((np.asarray(reference, np.float64) - np.asarray(image, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak ** 2 / mse)


def image_psnr(reference: LoadedImage, image: LoadedImage, reference_name: str = "reference",
               image_name: str = "image") -> float:
    """PSNR of two images on the 0..255 scale (of any bit depths), which must be the same size."""
    if reference.channels.shape != image.channels.shape:
        raise ImageError(f"wrong image size: {reference_name} is {reference.size_text}, "
                         f"{image_name} is {image.size_text}")
    return psnr(reference.channels, image.channels)
