"""Differences made visible: zero stays black, anything else shows."""
import numpy as np

from veil.models.report.images import DIFFERENCE_FLOOR, mosaic, visible_difference


def test_visible_difference():
    assert not visible_difference(np.zeros((3, 4))).any()
    diff = np.array([[0.0, 0.001, 0.0], [2.0, 0.0, 0.5]])
    shown = visible_difference(diff)[0]
    assert (shown == 0).tolist() == (diff == 0).tolist()
    assert shown[diff > 0].min() >= DIFFERENCE_FLOOR and shown.max() == 255


def test_mosaic_layout():
    patches = np.arange(5 * 4).reshape(5, 4) + 1        # five 2x2 patches
    m = mosaic(patches, 2)[0]
    assert m.shape == (4, 6)                            # 3 columns, 2 rows
    assert m[2:4, 2:4].tolist() == [[17, 18], [19, 20]]  # patch 4 at row 1, column 1
    assert not m[2:4, 4:6].any()                        # the empty cell
