"""The spec the checker tests edit (line numbers matter: errors are asserted at positions in
it) and helpers to load, break and give weights to it."""
import numpy as np
import pytest

from veil.models.catalog import load_model
from veil.compiler.errors import SpecError

# Line numbers matter: the error tests below assert positions in this text.
BASE = """\
model m {
    patch 5 -> 1 stride 1
    normalise p -> (p / 255 - 0.5) / 0.2
    input fix<16, 12>
    activation fix<16, 12>
    weight fix<16, 12>
    bias fix<32, 24>
    coefficient frac 14
    weights random seed 3
    dense 25 -> 8 tanh_star
    dense 8 -> 1
}
"""


def variant(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def load(tmp_path, text: str):
    path = tmp_path / "s.veil"
    path.write_text(text)
    return load_model(path)


def error(tmp_path, text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(tmp_path, text)
    e = info.value
    assert str(e) == f"{e.path}:{e.line}:{e.column}: {e.message}"
    return e


def params(shapes=((25, 8), (8, 1)), seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for k, (n_in, n_out) in enumerate(shapes, start=1):
        out[f"w{k}"] = rng.uniform(-1, 1, (n_out, n_in))
        out[f"b{k}"] = rng.uniform(-1, 1, n_out)
    return out


def with_npz(tmp_path, arrays) -> str:
    np.savez(tmp_path / "w.npz", **arrays)
    return variant("weights random seed 3", 'weights "w.npz"')
