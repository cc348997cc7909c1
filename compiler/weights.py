"""Where the float weights come from: an .npz archive or seeded Glorot-uniform random values.

Both give, per layer k (1-based), w_k of shape (n_out, n_in) and b_k of shape (n_out,), float64.
Quantisation and range checks are check.py's business.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from veil.compiler.errors import SourcePos, SpecError

Shapes = list[tuple[int, int]]             # (n_in, n_out) per layer
Params = list[tuple[np.ndarray, np.ndarray]]

_LAYER_KEY = re.compile(r"[wb](\d+)")


def glorot_uniform(shapes: Shapes, seed: int) -> Params:
    """W ~ U(-l, l), l = sqrt(6 / (n_in + n_out)), drawn in float32 for speed; b = 0."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in shapes:
        limit = np.float32(np.sqrt(6.0 / (n_in + n_out)))
        u = rng.random((n_out, n_in), dtype=np.float32)
        u *= 2 * limit
        u -= limit
        params.append((u.astype(np.float64), np.zeros(n_out)))
    return params


def load_npz(path: Path, shapes: Shapes, weights_pos: SourcePos,
             layer_pos: list[SourcePos]) -> Params:
    """Read w1, b1, w2, ... from `path`; errors at the weights entry or at the layer's entry."""
    arrays = _read(path, weights_pos)
    n = len(shapes)
    extra = sorted(k for k in arrays if (m := _LAYER_KEY.fullmatch(k)) and not 1 <= int(m[1]) <= n)
    if extra:
        raise SpecError.at(weights_pos, f"{path} has array '{extra[0]}' but the model has "
                                        f"{n} layer{'s' if n > 1 else ''}")
    params = []
    for k, ((n_in, n_out), pos) in enumerate(zip(shapes, layer_pos), start=1):
        w = _get(arrays, f"w{k}", (n_out, n_in), path, weights_pos, pos, k)
        b = _get(arrays, f"b{k}", (n_out,), path, weights_pos, pos, k)
        params.append((w, b))
    return params


def _read(path: Path, pos: SourcePos) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise SpecError.at(pos, f"weights file not found: {path}")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise SpecError.at(pos, f"cannot read weights file {path}: {e}") from None


def _get(arrays: dict[str, np.ndarray], key: str, shape: tuple[int, ...], path: Path,
         weights_pos: SourcePos, layer_pos: SourcePos, k: int) -> np.ndarray:
    if key not in arrays:
        have = ", ".join(sorted(arrays)) or "nothing"
        raise SpecError.at(weights_pos, f"{path} has no array '{key}' for layer {k} (it has: {have})")
    a = arrays[key]
    if a.dtype.kind not in "iuf":
        raise SpecError.at(layer_pos, f"{key} in {path} has dtype {a.dtype}, not numbers")
    if a.shape != shape:
        raise SpecError.at(layer_pos, f"{key} in {path} has shape {a.shape} but layer {k} "
                                      f"needs {shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise SpecError.at(layer_pos, f"{key} in {path} contains NaN or infinity")
    return a
