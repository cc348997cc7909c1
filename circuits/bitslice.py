"""Conversions between integers and bit-sliced words.

Bit-sliced layout: wire row r, word j, bit t holds bit r of instance 64*j + t.
Integers travel as 64-bit limbs; one limb of N instances is reshaped into
64x64 bit matrices and transposed in place with six vectorised butterfly
stages, so integer inputs need no per-instance or per-bit Python loop (only
object arrays of Python ints, e.g. buses wider than 64 bits, are converted
element by element).
"""
from __future__ import annotations

import operator

import numpy as np

_STAGES = [(np.uint64(j), np.uint64(m)) for j, m in (
    (32, 0x00000000FFFFFFFF), (16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
    (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333), (1, 0x5555555555555555))]

MASK64 = (1 << 64) - 1


def transpose64(blocks: np.ndarray) -> np.ndarray:
    """Transpose each 64x64 bit matrix: out[k, c] bit r == blocks[k, r] bit c."""
    a = np.array(blocks, dtype=np.uint64, copy=True).reshape(-1, 64)
    for j, m in _STAGES:
        v = a.reshape(len(a), 64 // (2 * int(j)), 2, int(j))
        lo, hi = v[:, :, 0, :], v[:, :, 1, :]
        # swap the high-column half of the upper rows with the low half of the
        # lower rows; in-place ops on one temporary keep this memory-bound
        t = lo >> j
        t ^= hi
        t &= m
        hi ^= t
        t <<= j
        lo ^= t
    return a


def to_limbs(values, width: int) -> tuple[list[np.ndarray], int]:
    """values mod 2**width as 64-bit limbs (uint64 arrays, least significant first), and N."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and not isinstance(values, np.ndarray):
        arr = np.asarray(values, dtype=object)  # numpy turns e.g. [2**64 - 1, 5] into floats
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D array of integers, got shape {arr.shape}")
    n = len(arr)
    if n == 0 or width == 0:
        return [np.zeros(n, np.uint64) for _ in range(0, width, 64)], n
    if arr.dtype.kind in "iub" and width <= 64:  # fast path: wraps mod 2**64
        u = arr.astype(np.uint64)
        return [u & np.uint64((1 << width) - 1) if width < 64 else u], n
    if arr.dtype.kind not in "iubO":
        raise TypeError(f"expected integers, got dtype {arr.dtype}")
    big = np.array([operator.index(v) for v in arr.tolist()], dtype=object) % (1 << width)
    return [((big >> s) & MASK64).astype(np.uint64) for s in range(0, width, 64)], n


def field(limbs: list[np.ndarray], p: int, n: int) -> np.ndarray:
    """Bits p .. p+n-1 (n <= 64) of values given as 64-bit limbs, as uint64."""
    k, r = divmod(p, 64)
    v = limbs[k] >> np.uint64(r)
    if r and r + n > 64:
        v = v | (limbs[k + 1] << np.uint64(64 - r))
    return v & np.uint64((1 << n) - 1) if n < 64 else v


def concat(buses: list[tuple[list[np.ndarray], int]], n: int) -> list[np.ndarray]:
    """Concatenate the bits of several (limbs, width) buses, first bus lowest,
    into one stream of 64-bit limbs, so narrow buses share transposes."""
    total = sum(w for _, w in buses)
    words = [np.zeros(n, np.uint64) for _ in range(0, total, 64)]
    pos = 0
    for limbs, width in buses:
        done = 0
        while done < width:  # copy the longest run that stays in one stream word
            k, r = divmod(pos, 64)
            take = min(64 - r, width - done)
            words[k] |= field(limbs, done, take) << np.uint64(r)
            pos, done = pos + take, done + take
    return words


def split(words: list[np.ndarray], widths: list[int]) -> list[list[np.ndarray]]:
    """Inverse of concat: the stream back into per-bus 64-bit limbs."""
    out, pos = [], 0
    for width in widths:
        out.append([field(words, pos + s, min(64, width - s)) for s in range(0, width, 64)])
        pos += width
    return out


def pack(limb: np.ndarray, nbits: int, n_words: int) -> np.ndarray:
    """(nbits, n_words) bit-sliced rows for the low nbits of a limb of N values."""
    padded = np.zeros(n_words * 64, dtype=np.uint64)
    padded[:len(limb)] = limb
    return transpose64(padded.reshape(n_words, 64))[:, :nbits].T.copy()


def unpack(rows: np.ndarray, n: int) -> np.ndarray:
    """Inverse of pack: up to 64 bit-sliced rows (nbits, n_words) -> N uint64 values."""
    nbits, n_words = rows.shape
    blocks = np.zeros((n_words, 64), dtype=np.uint64)
    blocks[:, :nbits] = rows.T
    return transpose64(blocks).reshape(-1)[:n]


def from_limbs(limbs: list[np.ndarray], width: int, signed: bool, n: int) -> np.ndarray:
    """N integers from limbs: int64 when width <= 63, else an object array of Python ints."""
    if width == 0:
        return np.zeros(n, dtype=np.int64)
    if width <= 63:
        v = limbs[0].view(np.int64)
        if signed:  # sign-extend from bit width-1
            h = np.int64(1 << (width - 1))
            v = (v ^ h) - h
        return v
    v = np.zeros(n, dtype=object)
    for k, limb in enumerate(limbs):
        v = v + (limb.astype(object) << (64 * k))
    if signed:
        v = np.where(v >= 1 << (width - 1), v - (1 << width), v)
    return v
