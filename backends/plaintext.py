"""The reference backend: exact integer fixed point, activations by running the compiled
circuits on bits (bit-sliced over every neuron of the batch).

Dense layers: acc = W @ y + (b << (acc_frac - bias_frac)) exactly. The fast path multiplies
in float64, which is exact while every partial sum is an integer below 2^53 (checked from the
formats); otherwise it falls back to int64. `tests/backends` holds the two paths together.
"""
from __future__ import annotations

import numpy as np

from veil.backends.base import Backend
from veil.backends.registry import register
from veil.circuits.evaluate import evaluate
from veil.compiler.model import Layer
from veil.compiler.program import Program


def float64_is_exact(layer: Layer) -> bool:
    w = max(abs(layer.weight_format.min_int), layer.weight_format.max_int)
    y = max(abs(layer.in_format.min_int), layer.in_format.max_int)
    return layer.n_in * w * y < 2 ** 53


def dense_exact(layer: Layer, y: np.ndarray, allow_float: bool = True) -> np.ndarray:
    bias = layer.bias.astype(np.int64) << (layer.acc_frac - layer.bias_format.frac)
    if allow_float and float64_is_exact(layer):
        acc = (y.astype(np.float64) @ layer.weights.T.astype(np.float64)).astype(np.int64)
    else:
        acc = y.astype(np.int64) @ layer.weights.T.astype(np.int64)
    return acc + bias


@register
class PlaintextBackend(Backend):
    name = "plaintext"

    def __init__(self, allow_float: bool = True):
        self.allow_float = allow_float

    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        y = np.asarray(x, dtype=np.int64)
        for stage in program.dense:
            acc = dense_exact(stage.layer, y, self.allow_float)
            act = program.activation(stage.layer.index)
            if act is None:
                y = acc
                continue
            out = evaluate(act.linear, {"x": acc.reshape(-1)}, signed_outputs=("t",))["t"]
            y = np.asarray(out, dtype=np.int64).reshape(acc.shape)
        return y
