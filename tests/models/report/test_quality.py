"""SSIM's window on small images, and PSNR as `veil psnr` computes it."""
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from veil.models.report.quality import quality_rows, ssim_window


@pytest.mark.parametrize("shape,window", [((64, 64), 7), ((8, 9), 7), ((6, 9), 5),
                                          ((4, 4), 3), ((3, 40), 3), ((2, 9), None)])
def test_ssim_window(shape, window):
    assert ssim_window(shape) == window


def test_small_image_rows():
    rng = np.random.default_rng(1)
    ref = rng.integers(0, 256, (1, 4, 5)).astype(np.float64)
    img = np.clip(ref + rng.normal(0, 9, ref.shape).round(), 0, 255)
    [(label, p, s)] = quality_rows(ref, [("x", img)])
    assert label == "x" and isinstance(p, float)
    assert p == pytest.approx(peak_signal_noise_ratio(ref[0], img[0], data_range=255))
    assert s == pytest.approx(structural_similarity(ref[0], img[0], data_range=255, win_size=3))
    assert quality_rows(ref[:, :2], [("x", img[:, :2])])[0][2] is None
    assert quality_rows(ref, [("same", ref)])[0][1] == float("inf")
