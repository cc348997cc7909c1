"""Signed two's-complement fixed-point formats fix<total, frac>."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_TOTAL = 62   # keeps every value and sum of two in int64


@dataclass(frozen=True)
class FixFormat:
    total: int   # bits including sign
    frac: int    # fractional bits

    def __post_init__(self):
        if not 1 <= self.total <= MAX_TOTAL:
            raise ValueError(f"total bits must be between 1 and {MAX_TOTAL}, got {self.total}")
        if not 0 <= self.frac < self.total:
            raise ValueError(f"fractional bits must be between 0 and total - 1 = {self.total - 1}, "
                             f"got {self.frac}")

    @property
    def min_int(self) -> int:
        return -(1 << (self.total - 1))

    @property
    def max_int(self) -> int:
        return (1 << (self.total - 1)) - 1

    @property
    def min_value(self) -> float:
        return self.min_int / 2.0**self.frac

    @property
    def max_value(self) -> float:
        return self.max_int / 2.0**self.frac

    def quantise(self, x) -> np.ndarray:
        """round(x * 2^frac), half to even, as int64; no clipping (see fits)."""
        scaled = np.multiply(np.asarray(x, dtype=np.float64), 2.0**self.frac)
        np.rint(scaled, out=scaled)
        if scaled.size and not -2.0**63 <= scaled.min() <= scaled.max() < 2.0**63:
            raise ValueError(f"value not finite or beyond int64 after scaling to {self}")
        return scaled.astype(np.int64)

    def fits(self, ints) -> bool:
        a = np.asarray(ints)
        return a.size == 0 or bool(a.min() >= self.min_int and a.max() <= self.max_int)

    def to_float(self, ints) -> np.ndarray:
        return np.asarray(ints, dtype=np.float64) / 2.0**self.frac

    def range_str(self) -> str:
        return f"{self.min_value:g} .. {self.max_value:.10g}"

    def __str__(self) -> str:
        return f"fix<{self.total},{self.frac}>"
