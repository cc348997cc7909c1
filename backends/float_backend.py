"""Floating-point backends: `float` (true tanh, the seed paper's baseline) and `float-approx`
(the spec's own piecewise activation, e.g. tanh*, in float64). Both use the unquantised
weights; they measure what fixed point and the approximation cost."""
from __future__ import annotations

import numpy as np

from veil.backends.base import Backend
from veil.backends.registry import register
from veil.compiler.program import Program


class _FloatBackend(Backend):
    exact = False

    def activation(self, program: Program, layer):
        raise NotImplementedError

    def run_pixels(self, program: Program, pixels: np.ndarray) -> np.ndarray:
        norm = program.model.normalisation
        x = norm.forward(np.asarray(pixels, np.float64))
        h = x
        for layer in program.model.layers:
            h = h @ layer.weights_float.T.astype(np.float64) + layer.bias_float
            if layer.activation is not None:
                h = self.activation(program, layer)(h)
        if program.model.residual:
            h = h + program.model.centre(x)
        return norm.inverse(h)

    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        raise TypeError(f"the {self.name} backend is not a fixed-point backend")


@register
class FloatBackend(_FloatBackend):
    name = "float"

    def activation(self, program, layer):
        return np.tanh


@register
class FloatApproxBackend(_FloatBackend):
    name = "float-approx"

    def activation(self, program, layer):
        return layer.activation.float_activation()
