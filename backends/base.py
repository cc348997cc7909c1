"""The one contract every backend keeps.

A backend runs a compiled Program on a batch of patches. `run_pixels` takes noisy input
patches as pixel values on the 0..255 scale, shape (n, input_size**2), and returns predicted
patches on the same scale, shape (n, output_size**2), unclipped. Exact backends (plaintext,
yao) work in integer fixed point: they implement `run_fixed` on quantised inputs, and must
agree with the plaintext reference bit for bit; float backends override `run_pixels`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from veil.compiler.program import Program


class Backend(ABC):
    name: ClassVar[str]
    exact: ClassVar[bool] = True       # integer fixed point, comparable bit for bit
    max_batch: ClassVar[int] = 1 << 20  # patches per call that still give timely progress
    options: ClassVar[frozenset[str]] = frozenset()   # keyword options the constructor takes

    def run_pixels(self, program: Program, pixels: np.ndarray) -> np.ndarray:
        x = program.quantise_input(pixels)
        return program.dequantise_output(program.finish_output(self.run_fixed(program, x), x))

    @abstractmethod
    def run_fixed(self, program: Program, x: np.ndarray) -> np.ndarray:
        """Quantised input patches (int64, (n, input_size**2)) -> the network's output
        accumulators (int64), before the residual (see Program.finish_output)."""

    def close(self) -> None:
        """Release whatever the backend holds (keys, worker processes)."""
