"""Synthetic noise and the quality measure."""
from __future__ import annotations

import numpy as np


def add_noise(channels: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """White Gaussian noise of standard deviation sigma (0..255 scale), rounded and clipped
    as a saved image would be. Simulation noise, not a secret: a seeded numpy Generator."""
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(channels + rng.normal(0.0, sigma, channels.shape)), 0.0, 255.0)


def psnr(reference: np.ndarray, image: np.ndarray, peak: float = 255.0) -> float:
    mse = float(np.mean((np.asarray(reference, np.float64) - np.asarray(image, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak ** 2 / mse)
