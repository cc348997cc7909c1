"""The checker on weights: .npz files (keys, shapes, finite values, formats) and sizes."""
import numpy as np
import pytest

from veil.models.catalog import load_model

from .check_testkit import error, load, params, variant, with_npz


# --- weights files ---

def test_npz_missing_key(tmp_path):
    arrays = params()
    del arrays["b2"]
    e = error(tmp_path, with_npz(tmp_path, arrays))
    assert (e.line, e.column) == (9, 5)
    assert e.message == f"{tmp_path / 'w.npz'} has no array 'b2' for layer 2 (it has: b1, w1, w2)"


def test_npz_extra_layer(tmp_path):
    arrays = params(((25, 8), (8, 1), (1, 1)))
    e = error(tmp_path, with_npz(tmp_path, arrays))
    assert (e.line, e.column) == (9, 5)
    assert "has array 'b3' but the model has 2 layers" in e.message


@pytest.mark.parametrize("key,shape,line,message", [
    ("w1", (8, 24), 10, "w1 in {} has shape (8, 24) but layer 1 needs (8, 25)"),
    ("w2", (8, 1), 11, "w2 in {} has shape (8, 1) but layer 2 needs (1, 8)"),
    ("b1", (8, 1), 10, "b1 in {} has shape (8, 1) but layer 1 needs (8,)"),
])
def test_npz_bad_shape(tmp_path, key, shape, line, message):
    arrays = params()
    arrays[key] = np.zeros(shape)
    e = error(tmp_path, with_npz(tmp_path, arrays))
    assert (e.line, e.column) == (line, 5)
    assert e.message == message.format(tmp_path / "w.npz")


def test_npz_not_finite(tmp_path):
    arrays = params()
    arrays["w2"][0, 3] = np.nan
    e = error(tmp_path, with_npz(tmp_path, arrays))
    assert (e.line, e.column) == (11, 5) and "w2 in" in e.message and "NaN" in e.message


def test_npz_unreadable(tmp_path):
    (tmp_path / "w.npz").write_text("not a zip")
    e = error(tmp_path, variant("weights random seed 3", 'weights "w.npz"'))
    assert (e.line, e.column) == (9, 5) and "cannot read weights file" in e.message


@pytest.mark.parametrize("key,index,value,line,message", [
    ("w2", (0, 3), 9.5, 11,
     "layer 2 weight [0, 3] = 9.5 is out of range of fix<16,12> (-8 .. 7.999755859)"),
    ("w1", (2, 0), 7.99999, 10,
     "layer 1 weight [2, 0] = 7.99999 is out of range of fix<16,12> (-8 .. 7.999755859)"),
    ("w1", (1, 1), -1e30, 10, "layer 1 weight [1, 1] = -1e+30 is out of range"),
    ("b1", (4,), -200.0, 10,
     "layer 1 bias [4] = -200.0 is out of range of fix<32,24> (-128 .. 127.9999999)"),
])
def test_weights_out_of_range(tmp_path, key, index, value, line, message):
    arrays = params()
    arrays[key][index] = value
    e = error(tmp_path, with_npz(tmp_path, arrays))
    assert (e.line, e.column) == (line, 5)
    assert e.message.startswith(message)


def test_weight_at_format_minimum_fits(tmp_path):
    arrays = params()
    arrays["w1"][0, 0] = -8.0
    assert load(tmp_path, with_npz(tmp_path, arrays)).layers[0].weights[0, 0] == -32768


@pytest.mark.slow
def test_burger_loads_quickly():
    import time
    t = time.perf_counter()
    m = load_model("burger")
    assert time.perf_counter() - t < 5
    assert [l.n_out for l in m.layers] == [3072, 3072, 2559, 2047, 289]


def test_huge_layer_rejected_before_allocation(tmp_path):
    text = variant("patch 5 -> 1", "patch 40001 -> 1")
    text = variant("dense 25 -> 8", "dense 1600080001 -> 8", text)
    e = error(tmp_path, text)
    assert (e.line, e.column) == (10, 5) and "more than the 16777216 a layer may" in e.message


def test_deeply_nested_expression(tmp_path):
    """Refused at the operator 65 levels above the innermost (compiler/budget.py), before the
    checker recurses into it."""
    e = error(tmp_path, variant("(p / 255 - 0.5) / 0.2", "-" * 5000 + "p"))
    assert (e.line, e.column) == (3, 20 + 5000 - 65)
    assert e.message == "operators nested more than 64 deep"
