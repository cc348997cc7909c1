"""Integers <-> bit matrices (width, n), LSB first, with the plaintext evaluator's conventions:
inputs are taken modulo 2**width; outputs are int64 for widths <= 63, else Python ints."""
from __future__ import annotations

import numpy as np

from veil.circuits import bitslice


def to_bits(values, width: int) -> np.ndarray:
    """(width, n) uint8 bits of values mod 2**width (values: 1-D array-like of integers)."""
    limbs, n = bitslice.to_limbs(values, width)
    bits = np.empty((width, n), np.uint8)
    for k, limb in enumerate(limbs):  # one iteration per 64 bits of width
        w = min(64, width - 64 * k)
        shifts = np.arange(w, dtype=np.uint64)[:, None]
        bits[64 * k:64 * k + w] = (limb[None, :] >> shifts) & np.uint64(1)
    return bits


def from_bits(bits: np.ndarray) -> np.ndarray:
    """Unsigned integers from (width, n) 0/1 bits."""
    width, n = bits.shape
    limbs = []
    for k in range(0, width, 64):
        chunk = bits[k:k + 64].astype(np.uint64)
        shifts = np.arange(len(chunk), dtype=np.uint64)[:, None]
        limbs.append(np.bitwise_or.reduce(chunk << shifts, axis=0) if len(chunk)
                     else np.zeros(n, np.uint64))
    return bitslice.from_limbs(limbs, width, False, n)
