"""The training sets: the shipped model's 16 pictures unchanged, the added ones from the
wheels, and no held-out picture among them."""
import numpy as np
import pytest

from veil.models.train_images import HOLDOUT, load_skimage_gray, load_training_images
from veil.util.errors import UsageError


def test_wheels_set_adds_sklearn_photos_and_lfw_crops_to_skimage16():
    old, new = load_training_images("skimage16"), load_training_images("wheels")
    assert len(old) == 16 and len(new) == 16 + 2 + 200
    assert all(np.array_equal(a, b) for a, b in zip(old, new))
    from sklearn.datasets import load_sample_images
    photos = load_sample_images().images                      # china, flower: RGB uint8
    for im, rgb in zip(new[16:18], photos):
        grey = rgb @ np.array([0.2125, 0.7154, 0.0721])       # skimage's rgb2gray weights
        np.testing.assert_allclose(im, grey, atol=1e-6)
    assert all(im.shape == (25, 25) for im in new[18:])
    assert all(0 <= im.min() and im.max() <= 255 for im in new)


def test_no_held_out_picture_is_trained_on():
    held = [load_skimage_gray(n) for n in HOLDOUT]
    for im in load_training_images("wheels"):
        for h in held:
            assert im.shape != h.shape or not np.allclose(im, h, atol=1.0)


def test_unknown_training_set_is_refused():
    with pytest.raises(UsageError, match="unknown training set 'nope'"):
        load_training_images("nope")
