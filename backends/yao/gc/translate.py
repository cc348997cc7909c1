"""Translation tables: a value chosen by the garbler for each combination of two hidden wires.

A circuit garbled with two output wires A and B hidden (garble's `hidden`: no decoding bits)
leaves the evaluator one label of each, A_a and B_b, without knowing a or b. For every
instance the garbler, who holds both labels of each (zero-label Z and Z xor R), sends four
rows, one per combination (a, b), at position p = 2 colour(A_a) + colour(B_b):

    row[p] = H(A_a, T(i, p, 0)) xor H(B_b, T(i, p, 1)) xor encode(value(a, b))

with H the garbling's tweakable hash (hash.py) and T unique per (garbling, instance, row,
label):  word 1 = 2^63 | tweak_base, word 0 = 8 instance + 2 p + j (values wider than 128
bits take B = blocks(bits) hashes per label: word 0 = 2 (B (4 instance + p) + block) + j,
so the pad is H(A_a, ..) xor H(B_b, ..) block by block). The AND gates' tweaks have
word 1 = tweak_base < 2^63 (tweaks.py), so no tweak serves both a gate and a row, and no two
rows or labels share one. The evaluator opens row p of its own labels' colours; every other
row contains a hash of a label it does not hold (A_a xor R or B_b xor R) under a tweak used
nowhere else, so it is pseudo-random to it (docs/protocol.md, "The translation table").
encode(v) is v's value_bytes(bits) little-endian bytes; the opened value is taken mod 2^bits
(never refused: a check would be a selective-failure oracle for a malicious garbler).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from veil.backends.yao.gc.hash import TweakHash
from veil.backends.yao.gc.labels import LABEL_BYTES, WORD, colour, words
from veil.util.errors import ProtocolError

ROWS = 4
DOMAIN = 1 << 63            # word 1's top bit: translation tweaks, never a gate's
CHUNK = 8192                # instances hashed per call (bounds the hash buffers)


def value_bytes(bits: int) -> int:
    if bits < 1:
        raise ValueError(f"a translated value has at least 1 bit, not {bits}")
    return -(-bits // 8)


def blocks(bits: int) -> int:
    """Hashes per label and row: one per 128 bits of the value."""
    return -(-value_bytes(bits) // LABEL_BYTES)


def table_bytes(n_instances: int, bits: int) -> int:
    """Bytes of the rows of n instances on the wire."""
    return n_instances * ROWS * value_bytes(bits)


def check_range(tweak_base: int, first_instance: int, n: int, bits: int = 1) -> None:
    if not 0 <= tweak_base < DOMAIN:
        raise ValueError("a translated garbling's tweak_base must be below 2^63")
    if first_instance < 0 or 8 * blocks(bits) * (first_instance + n) > 1 << 64:
        raise ValueError("instance numbers overflow the translation tweaks")


def tweak(tweak_base: int, instance: int, row: int, label: int, block: int = 0,
          n_blocks: int = 1) -> int:
    """The tweak as a Python integer (documentation and tests)."""
    return ((DOMAIN | tweak_base) << 64) + 2 * (n_blocks * (4 * instance + row) + block) + label


def _pads(la: np.ndarray, lb: np.ndarray, rows: np.ndarray, tweak_base: int,
          first: int, n_blocks: int = 1) -> np.ndarray:
    """H(la, T(i, row, 0, blk)) xor H(lb, T(i, row, 1, blk)) for labels (n, m, 16) and
    rows (n, m), blocks side by side: (n, m, 16 n_blocks)."""
    n, m = rows.shape
    out = np.empty((n, m, n_blocks, LABEL_BYTES), np.uint8)
    hasher = TweakHash(2 * m * min(n, CHUNK))
    for i0 in range(0, n, CHUNK):
        i1 = min(n, i0 + CHUNK)
        x = np.ascontiguousarray(np.stack([la[i0:i1], lb[i0:i1]], axis=2))   # (c, m, 2, 16)
        inst = np.arange(first + i0, first + i1, dtype=WORD)[:, None, None]
        base = (inst * np.uint64(4) + rows[i0:i1, :, None].astype(WORD)) * np.uint64(n_blocks)
        for blk in range(n_blocks):
            t = np.empty((i1 - i0, m, 2, 2), WORD)
            t[..., 0] = (base + np.uint64(blk)) * np.uint64(2) + np.arange(2, dtype=WORD)
            t[..., 1] = np.uint64(DOMAIN | tweak_base)
            h = hasher.hash(words(x).reshape(-1, 2), t.reshape(-1, 2)).reshape(i1 - i0, m, 2, 2)
            words(out[i0:i1, :, blk])[...] = h[:, :, 0] ^ h[:, :, 1]
    return out.reshape(n, m, n_blocks * LABEL_BYTES)


def garble_table(zero_a: np.ndarray, zero_b: np.ndarray, delta: np.ndarray,
                 values: Sequence[Sequence[int]], bits: int, tweak_base: int,
                 first_instance: int = 0) -> np.ndarray:
    """The garbler's rows (n, 4, value_bytes(bits)) uint8. zero_a, zero_b: (n, 16) zero-labels
    of the two hidden wires; values[i][2 a + b]: instance i's value for (a, b), taken
    mod 2^bits."""
    n, nb = len(values), value_bytes(bits)
    check_range(tweak_base, first_instance, n, bits)
    if zero_a.shape != (n, LABEL_BYTES) or zero_b.shape != (n, LABEL_BYTES):
        raise ValueError(f"expected zero-labels of shape {(n, LABEL_BYTES)}")
    ab = np.array([(a, b) for a in (0, 1) for b in (0, 1)], np.uint8)        # combination c
    d = np.frombuffer(bytes(delta), np.uint8)
    la = zero_a[:, None, :] ^ (ab[None, :, 0, None] * d)                    # (n, 4, 16)
    lb = zero_b[:, None, :] ^ (ab[None, :, 1, None] * d)
    pos = (2 * colour(la) + colour(lb)).astype(np.int64)                    # (n, 4)
    mask = (1 << bits) - 1
    enc = np.frombuffer(b"".join((int(v) & mask).to_bytes(nb, "little")
                                 for vs in values for v in vs), np.uint8).reshape(n, ROWS, nb)
    rows = np.empty((n, ROWS, nb), np.uint8)
    np.put_along_axis(rows, pos[..., None],
                      _pads(la, lb, pos, tweak_base, first_instance, blocks(bits))[..., :nb]
                      ^ enc, axis=1)
    return rows


def open_table(label_a: np.ndarray, label_b: np.ndarray, rows: np.ndarray, bits: int,
               tweak_base: int, first_instance: int = 0) -> list[int]:
    """The evaluator's values: the row its labels (n, 16) point to, decrypted, mod 2^bits."""
    n, nb = rows.shape[0], value_bytes(bits)
    check_range(tweak_base, first_instance, n, bits)
    if rows.shape != (n, ROWS, nb) or label_a.shape != (n, LABEL_BYTES) != label_b.shape:
        raise ValueError("translation rows and labels do not match")
    pos = (2 * colour(label_a) + colour(label_b)).astype(np.int64)[:, None]
    pad = _pads(label_a[:, None], label_b[:, None], pos, tweak_base, first_instance,
                blocks(bits))[:, 0, :nb]
    opened = np.take_along_axis(rows, pos[..., None], axis=1)[:, 0] ^ pad
    mask = (1 << bits) - 1
    return [int.from_bytes(r.tobytes(), "little") & mask for r in opened]


def table_to_bytes(rows: np.ndarray) -> bytes:
    return np.ascontiguousarray(rows).tobytes()


def table_from_bytes(data: bytes, n_instances: int, bits: int) -> np.ndarray:
    """The rows of n instances; anything but exactly their size is refused."""
    size = table_bytes(n_instances, bits)
    if len(data) != size:
        raise ProtocolError(f"translation table has {len(data)} bytes, expected {size}")
    return np.frombuffer(data, np.uint8).reshape(n_instances, ROWS, value_bytes(bits)).copy()
