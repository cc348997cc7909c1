"""Bit-matrix transposition for IKNP: 128 rows of m bits -> m rows of 128 bits.

The matrix is cut into 64x64 bit blocks, one uint64 per block row (little-endian, so column
i of a row is bit i % 64 of word i // 64). Six rounds of the recursive block swap (swap the
off-diagonal 32x32 halves, then 16x16, ... 1x1) transpose every block at once with
word-wide shifts, masks and XORs over the whole array, then 2-D word transposes put the
output rows in order. No Python loop per OT; measured ~1.4x faster than gathering 8x8 bit
blocks through byte shuffles, and >10x faster than unpackbits -> .T -> packbits.
"""
from __future__ import annotations

import numpy as np

# round s swaps the high s columns of each 2s-column group of row k with the low s of row k+s
_ROUNDS = [(s, np.uint64(s), np.uint64(int(("0" * s + "1" * s) * (32 // s), 2)))
           for s in (32, 16, 8, 4, 2, 1)]


def transpose_bits(rows: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """(k, nb) uint8, k a multiple of 64 -> (8 * nb, k // 8) uint8:
    bit j of out[i] (byte j // 8, bit j % 8) == bit i of rows[j].
    overwrite=True lets the rounds run in `rows` itself (saving a copy) when it is
    C-contiguous with nb a multiple of 8; rows is garbage afterwards."""
    k, nb = rows.shape
    if k % 64:
        raise ValueError("row count must be a multiple of 64")
    words = -(-nb // 8)
    if overwrite and nb % 8 == 0 and rows.flags.c_contiguous:
        padded = rows
    else:
        padded = np.zeros((k, 8 * words), np.uint8)
        padded[:, :nb] = rows
    w = padded.view(np.uint64).reshape(k // 64, 64, words)    # [row block, row, column word]
    t = np.empty((k // 64, 32, words), np.uint64)         # scratch: no temporaries per op
    for s, shift, mask in _ROUNDS:
        pairs = w.reshape(k // 64, 32 // s, 2, s, words)
        lo, hi = pairs[:, :, 0], pairs[:, :, 1]
        tv = t.reshape(lo.shape)
        np.right_shift(lo, shift, out=tv)
        tv ^= hi
        tv &= mask
        hi ^= tv
        tv <<= shift
        lo ^= tv
    # w[g, r, c] now holds bits 64g .. 64g+63 of output row 64c + r; one 2-D transpose per
    # g (numpy blocks those; a single 3-D transpose copy is 2.5x slower)
    out = np.empty((words, 64, k // 64), np.uint64)
    for g in range(k // 64):
        out[:, :, g] = w[g].T
    return out.view(np.uint8).reshape(64 * words, k // 8)[:8 * nb]
