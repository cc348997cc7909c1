"""The pictures used for training, and the ones held out for evaluation.

Training uses only pictures inside the scikit-image and scikit-learn wheels (nothing is
downloaded). Set12 and BSD68 (../shared/data) are test sets and are never trained on. Of the
scikit-image pictures, the natural-looking camera, astronaut, coffee and chelsea (= cat) are
held out. Two named sets: `skimage16`, the 16 scikit-image pictures the shipped compact
weights were trained on (kept so that they can be reproduced), and `wheels`, those plus the
natural pictures added since (docs/training.md says which and why).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from veil.util.errors import UsageError

SKIMAGE16 = ("brick", "grass", "gravel", "coins", "moon", "page", "text", "rocket",
             "immunohistochemistry", "hubble_deep_field", "retina", "cell", "clock",
             "microaneurysms", "motorcycle_left.png", "motorcycle_right.png")
# scikit-learn's two sample photographs, and scikit-image's 200 small LFW crops (25x25).
ADDED = ("sklearn:china.jpg", "sklearn:flower.jpg", "lfw_subset.npy")
DATASETS = {"skimage16": SKIMAGE16, "wheels": SKIMAGE16 + ADDED}
DEFAULT_DATASET = "wheels"
HOLDOUT = ("camera", "astronaut", "coffee", "chelsea")
TRAINING = SKIMAGE16                      # the shipped compact model's pictures


def _gray(img: np.ndarray) -> np.ndarray:
    import skimage.color
    if img.ndim == 3:
        img = skimage.color.rgb2gray(img[..., :3]) * 255.0
    elif img.dtype == bool:
        img = img.astype(np.float64) * 255.0
    return np.asarray(img, dtype=np.float64)


def load_skimage_gray(name: str) -> np.ndarray:
    """A scikit-image sample as a float64 grayscale array in [0, 255]."""
    import skimage.data
    import skimage.io
    if name.endswith(".png"):
        return _gray(skimage.io.imread(Path(skimage.data.__file__).parent / name))
    return _gray(getattr(skimage.data, name)())


def _load(name: str) -> list[np.ndarray]:
    if name.startswith("sklearn:"):
        try:
            from sklearn.datasets import load_sample_image
        except ImportError:
            raise UsageError("the training pictures need scikit-learn: "
                             "pip install -e '.[train]'") from None
        return [_gray(load_sample_image(name.split(":", 1)[1]))]
    if name.endswith(".npy"):                  # a stack of small grey pictures in [0, 1]
        import skimage.data
        stack = np.load(Path(skimage.data.__file__).parent / name)
        return [np.asarray(im, dtype=np.float64) * 255.0 for im in stack]
    return [load_skimage_gray(name)]


def load_training_images(dataset: str = DEFAULT_DATASET) -> list[np.ndarray]:
    if dataset not in DATASETS:
        raise UsageError(f"unknown training set '{dataset}' (known: {', '.join(DATASETS)})")
    return [im for name in DATASETS[dataset] for im in _load(name)]
