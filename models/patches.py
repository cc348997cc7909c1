"""Image <-> patches: reflection padding, patch grid, overlap averaging.

A model reads an `input_size` square of noisy pixels and predicts the central `output_size`
square. Output squares are laid on a grid of step `stride` (the last row/column is moved in so
the whole image is covered); the input squares around them reach past the border by
`(input_size - output_size) // 2` pixels, which reflection padding supplies. Overlapping
predictions are averaged. Work is done in batches so memory stays bounded for any image size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class PatchGeometry:
    input_size: int
    output_size: int
    stride: int

    def __post_init__(self):
        if self.input_size < self.output_size:
            raise ValueError("input patch must be at least as large as the output patch")
        if (self.input_size - self.output_size) % 2:
            raise ValueError("input and output patch sizes must differ by an even number")
        if not 1 <= self.stride <= self.output_size:
            raise ValueError(f"stride must be between 1 and the output size {self.output_size}")

    @property
    def border(self) -> int:
        return (self.input_size - self.output_size) // 2


def _starts(length: int, out: int, stride: int) -> np.ndarray:
    last = max(length - out, 0)
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return np.array(starts, dtype=np.int64)


class PatchGrid:
    """The output-patch positions covering one (H, W) channel, and their averaging."""

    def __init__(self, shape: tuple[int, int], geom: PatchGeometry):
        self.shape = shape
        self.geom = geom
        h, w = shape
        o = geom.output_size
        # Images smaller than the output patch are reflection-padded up to it.
        self.grown = (max(h, o), max(w, o))
        ys = _starts(self.grown[0], o, geom.stride)
        xs = _starts(self.grown[1], o, geom.stride)
        self.positions = np.stack(np.meshgrid(ys, xs, indexing="ij"), -1).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.positions)

    def pad(self, channel: np.ndarray) -> np.ndarray:
        h, w = self.shape
        b = self.geom.border
        gy, gx = self.grown[0] - h, self.grown[1] - w
        return np.pad(channel, ((b, b + gy), (b, b + gx)), mode="symmetric")

    def batches(self, padded: np.ndarray, batch: int) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield (index slice, input patches flattened row-major) in batches."""
        s = self.geom.input_size
        off = np.arange(s)
        for i in range(0, len(self.positions), batch):
            pos = self.positions[i:i + batch]
            patches = padded[pos[:, 0, None, None] + off[None, :, None],
                             pos[:, 1, None, None] + off[None, None, :]]
            yield slice(i, i + len(pos)), patches.reshape(len(pos), s * s)

    def new_accumulator(self) -> "OverlapAverager":
        return OverlapAverager(self)


class OverlapAverager:
    def __init__(self, grid: PatchGrid):
        self.grid = grid
        self.total = np.zeros(grid.grown, dtype=np.float64)
        self.count = np.zeros(grid.grown, dtype=np.int32)

    def add(self, idx: slice, outputs: np.ndarray) -> None:
        o = self.grid.geom.output_size
        pos = self.grid.positions[idx]
        off = np.arange(o)
        rows = pos[:, 0, None, None] + off[None, :, None]
        cols = pos[:, 1, None, None] + off[None, None, :]
        np.add.at(self.total, (rows, cols), outputs.reshape(len(pos), o, o))
        np.add.at(self.count, (rows, cols), 1)

    def result(self) -> np.ndarray:
        h, w = self.grid.shape
        return (self.total / np.maximum(self.count, 1))[:h, :w]
