"""The scikit-image pictures used for training, and the ones held out for evaluation.

Set12 and BSD68 (../shared/data) are test sets and are never trained on. Of the images inside
the scikit-image wheel, the natural-looking grayscale pictures camera, astronaut, coffee and
chelsea (= cat) are held out; everything below is training data.
"""
from __future__ import annotations

import numpy as np

TRAINING = ("brick", "grass", "gravel", "coins", "moon", "page", "text", "rocket",
            "immunohistochemistry", "hubble_deep_field", "retina", "cell", "clock",
            "microaneurysms", "motorcycle_left.png", "motorcycle_right.png")
HOLDOUT = ("camera", "astronaut", "coffee", "chelsea")


def load_skimage_gray(name: str) -> np.ndarray:
    """A scikit-image sample as a float64 grayscale array in [0, 255]."""
    import skimage.color
    import skimage.data
    import skimage.io
    from pathlib import Path
    if name.endswith(".png"):
        img = skimage.io.imread(Path(skimage.data.__file__).parent / name)
    else:
        img = getattr(skimage.data, name)()
    if img.ndim == 3:
        img = skimage.color.rgb2gray(img[..., :3]) * 255.0
    elif img.dtype == bool:
        img = img.astype(np.float64) * 255.0
    return np.asarray(img, dtype=np.float64)


def load_training_images() -> list[np.ndarray]:
    return [load_skimage_gray(n) for n in TRAINING]
