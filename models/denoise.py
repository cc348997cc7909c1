"""Denoise a whole image with a compiled program on any backend, in bounded-memory batches."""
from __future__ import annotations

from typing import Callable

import numpy as np

from veil.backends.base import Backend
from veil.compiler.program import Program
from veil.models.patches import PatchGeometry, PatchGrid
from veil.util.errors import UsageError

DEFAULT_BATCH = 4096


def geometry(program: Program, stride: int | None) -> PatchGeometry:
    """The model's patch geometry, with `stride` (a --stride option) in place of its own."""
    g = program.model.geometry
    if stride is not None and not 1 <= stride <= g.output_size:
        raise UsageError(f"--stride must be between 1 and the output size {g.output_size}")
    return PatchGeometry(g.input_size, g.output_size, g.stride if stride is None else stride)


def count_patches(program: Program, shape: tuple[int, int], channels: int,
                  stride: int | None = None) -> int:
    return channels * len(PatchGrid(shape, geometry(program, stride)))


def denoise_channels(program: Program, backend: Backend, channels: np.ndarray,
                     stride: int | None = None, batch: int = DEFAULT_BATCH,
                     progress: Callable[[int], None] = lambda n: None) -> np.ndarray:
    """(C, H, W) noisy pixels on the 0..255 scale -> denoised, clipped to [0, 255]."""
    geom = geometry(program, stride)
    out = np.empty_like(channels, dtype=np.float64)
    for c, channel in enumerate(channels):
        grid = PatchGrid(channel.shape, geom)
        acc = grid.new_accumulator()
        for idx, patches in grid.batches(grid.pad(channel), batch):
            acc.add(idx, backend.run_pixels(program, patches))
            progress(len(patches))
        out[c] = acc.result()
    return np.clip(out, 0.0, 255.0)
