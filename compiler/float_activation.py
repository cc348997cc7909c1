"""A piecewise-polynomial activation (over |x|, odd or even, saturating) evaluated in floating point.

The segment table comes from the spec (see compiler.model.ActivationDef); this is the float
counterpart of the activation circuit, used by training and by the float-approx backend.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FloatActivation:
    bounds: tuple[float, ...]                 # segment k covers |x| <= bounds[k]
    coeffs: tuple[tuple[float, ...], ...]     # coeffs[k][j] multiplies |x|**j
    saturation: float                          # value of p(|x|) beyond the last bound
    odd: bool = True

    def _select(self, a: np.ndarray, polys) -> np.ndarray:
        out = np.full_like(a, polys[-1])
        for bound, val in reversed(list(zip(self.bounds, polys[:-1]))):
            out = np.where(a <= bound, val, out)
        return out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        a = np.abs(x)
        vals = [np.polynomial.polynomial.polyval(a, c) for c in self.coeffs] + [self.saturation]
        y = self._select(a, vals).astype(x.dtype, copy=False)
        return np.where(x < 0, -y, y) if self.odd else y

    def derivative(self, x: np.ndarray) -> np.ndarray:
        a = np.abs(x)
        ders = [np.polynomial.polynomial.polyval(a, np.polynomial.polynomial.polyder(c))
                for c in self.coeffs] + [0.0]
        d = self._select(a, ders).astype(x.dtype, copy=False)
        return d if self.odd else np.where(x < 0, -d, d)

