"""The checked model: what the rest of the compiler consumes (built by check.py)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from veil.compiler.errors import SourcePos
from veil.compiler.fixedpoint import FixFormat
from veil.compiler.float_activation import FloatActivation

__all__ = ["Symmetry", "SourcePos", "ActivationDef", "Normalisation", "Geometry", "Layer",
           "CheckedModel"]


class Symmetry(Enum):
    ODD = "odd"     # t(-x) = -t(x)
    EVEN = "even"   # t(-x) = t(x)


@dataclass(frozen=True)
class ActivationDef:
    """t(x) = +-p_k(|x|) on segment k (|x| <= bounds[k]), +-saturation beyond the last bound."""
    name: str
    bounds: tuple[float, ...]                 # strictly increasing, positive
    coeffs: tuple[tuple[float, ...], ...]     # coeffs[k][j] multiplies |x|**j
    saturation: float
    symmetry: Symmetry
    pos: SourcePos

    @property
    def degree(self) -> int:
        return max(len(c) for c in self.coeffs) - 1

    def float_activation(self) -> FloatActivation:
        return FloatActivation(self.bounds, self.coeffs, self.saturation,
                               odd=self.symmetry is Symmetry.ODD)


@dataclass(frozen=True)
class Normalisation:
    """Pixel value p (0..255 scale) to network input x = scale * p + offset."""
    scale: float     # never 0
    offset: float

    def forward(self, p):
        return self.scale * p + self.offset

    def inverse(self, x):
        return (x - self.offset) / self.scale


@dataclass(frozen=True)
class Geometry:
    input_size: int    # side of the noisy input square
    output_size: int   # side of the predicted centre square
    stride: int


@dataclass(frozen=True, eq=False)
class Layer:
    index: int                          # 1-based
    n_in: int
    n_out: int
    activation: ActivationDef | None    # None only for the last layer
    weights: np.ndarray                 # int64 (n_out, n_in), in weight_format
    bias: np.ndarray                    # int64 (n_out,), in bias_format
    weights_float: np.ndarray           # float64, as loaded / generated
    bias_float: np.ndarray
    in_format: FixFormat                # model input for layer 1, activation format after
    weight_format: FixFormat
    bias_format: FixFormat
    acc_bits: int                       # weight.total + in.total + ceil(log2(n_in + 1)) + 1
    acc_frac: int                       # weight.frac + in.frac
    pos: SourcePos

    @property
    def acc_format(self) -> FixFormat:
        return FixFormat(self.acc_bits, self.acc_frac)


@dataclass(frozen=True, eq=False)
class CheckedModel:
    name: str
    path: str
    geometry: Geometry
    normalisation: Normalisation
    input_format: FixFormat
    activation_format: FixFormat
    weight_format: FixFormat
    bias_format: FixFormat
    coeff_frac: int                     # fractional bits of activation coefficients
    layers: tuple[Layer, ...]
    weights_source: str                 # 'file compact.npz' | 'random seed 7'
    activations: dict[str, ActivationDef]   # all known: prelude + spec
    residual: bool = False              # output = noisy centre + network (added by the user)

    @property
    def output_format(self) -> FixFormat:
        """The denoised patch: the last accumulator, plus one bit for the residual sum."""
        acc = self.layers[-1].acc_format
        return FixFormat(acc.total + 1, acc.frac) if self.residual else acc

    def centre(self, patches: np.ndarray) -> np.ndarray:
        """The output-sized centre of flattened input patches (n, input_size**2)."""
        s, o = self.geometry.input_size, self.geometry.output_size
        b = (s - o) // 2
        return patches.reshape(-1, s, s)[:, b:b + o, b:b + o].reshape(len(patches), o * o)

    def macs_per_patch(self) -> int:
        return sum(layer.n_in * layer.n_out for layer in self.layers)
