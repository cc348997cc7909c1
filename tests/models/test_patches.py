import numpy as np
import pytest

from veil.models.patches import PatchGeometry, PatchGrid


def run_identity(img, geom, batch=7):
    """A 'model' that predicts the clean centre as the noisy centre: output must equal input."""
    grid = PatchGrid(img.shape, geom)
    acc = grid.new_accumulator()
    b, o, s = geom.border, geom.output_size, geom.input_size
    for idx, patches in grid.batches(grid.pad(img), batch):
        centre = patches.reshape(-1, s, s)[:, b:b + o, b:b + o]
        acc.add(idx, centre.reshape(len(centre), -1))
    return acc.result(), grid


@pytest.mark.parametrize("shape", [(37, 29), (8, 8), (5, 3), (64, 64), (1, 1)])
@pytest.mark.parametrize("geom", [PatchGeometry(16, 8, 8), PatchGeometry(16, 8, 3),
                                  PatchGeometry(5, 1, 1), PatchGeometry(39, 17, 3)])
def test_identity_model_reconstructs_image(shape, geom):
    img = np.random.default_rng(0).uniform(0, 255, shape)
    out, grid = run_identity(img, geom)
    assert out.shape == img.shape
    np.testing.assert_allclose(out, img, rtol=0, atol=1e-9)


def test_patch_count_and_overlap_average():
    geom = PatchGeometry(16, 8, 8)
    grid = PatchGrid((512, 512), geom)
    assert len(grid) == 64 * 64
    grid4 = PatchGrid((512, 512), PatchGeometry(16, 8, 4))
    acc = grid4.new_accumulator()
    for idx, p in grid4.batches(grid4.pad(np.zeros((512, 512))), 1000):
        acc.add(idx, np.arange(idx.start, idx.stop, dtype=float)[:, None].repeat(64, 1))
    res = acc.result()
    # Pixel (5, 5) is covered by patches 0, 1, 127, 128 of the 127x127 grid: their average.
    assert res[5, 5] == pytest.approx((0 + 1 + 127 + 128) / 4)


def test_reflection_padding_is_symmetric():
    img = np.arange(12, dtype=float).reshape(3, 4)
    grid = PatchGrid(img.shape, PatchGeometry(5, 1, 1))
    padded = grid.pad(img)
    assert padded.shape == (7, 8)
    assert np.array_equal(padded[2:5, 2:6], img)
    assert np.array_equal(padded[1, 2:6], img[0]) and np.array_equal(padded[0, 2:6], img[1])


@pytest.mark.parametrize("args", [(8, 16, 1), (16, 7, 1), (16, 8, 0), (16, 8, 9)])
def test_bad_geometry(args):
    with pytest.raises(ValueError):
        PatchGeometry(*args)
