"""Wire labels: 128-bit strings from a CSPRNG, held as (..., 16) uint8 arrays.

Randomness: AES-256-CTR keyed with 32 fresh bytes of `os.urandom` per call (PROTOCOL.md allows
AES-CTR keyed from the OS CSPRNG; it is ~20x faster than os.urandom here, which matters at
~2 KB of input labels per instance). A fresh key per call makes the all-zero nonce safe, and a
256-bit key keeps the many-keys (multi-target) margin above 128 bits. Never `random` or numpy
generators.

Seeded labels (`seeded_labels`): the same AES-256-CTR stream, keyed with SHA-256(seed, name)
for a secret 32-byte seed the garbler draws with `secrets`. One seed per garbling part and one
name per use make every stream's key distinct (so the zero nonce stays safe), and the labels
are a function of the seed: a garbling part run again on another worker gives the same tables,
and the garbler regenerates the zero-labels it needs online instead of receiving them
(docs/protocol.md, "Garbling on the cloud's workers").

Colour (point-and-permute) bit: the least significant bit of the label read as a little-endian
128-bit integer, i.e. bit 0 of byte 0, i.e. bit 0 of word 0 of the uint64 view.
"""
from __future__ import annotations

import hashlib
import math
import os

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

LABEL_BYTES = 16
WORD = np.dtype("<u8")  # little-endian words: word 0 holds the colour bit and the tweak counter


SEED_BYTES = 32


def random_bytes(n: int, key: bytes | None = None) -> np.ndarray:
    """n CSPRNG bytes as a fresh writable uint8 array: the AES-256-CTR stream of `key`, a
    fresh os.urandom key unless one is given (it must then be secret and used once)."""
    out = np.zeros(n + 15, np.uint8)  # update_into wants block_size - 1 spare bytes
    if n:
        key = os.urandom(32) if key is None else key
        enc = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        enc.update_into(np.zeros(n, np.uint8), out)
    return out[:n]


def random_labels(*shape: int) -> np.ndarray:
    """Independent uniform labels of the given shape (+ a trailing axis of 16 bytes)."""
    return random_bytes(math.prod(shape) * LABEL_BYTES).reshape(*shape, LABEL_BYTES)


def seeded_bytes(seed: bytes, name: str, n: int) -> np.ndarray:
    """n bytes expanded from a secret seed (32 bytes from the CSPRNG) for the use `name`: the
    same seed and name give the same bytes, different names independent ones."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a label seed has {SEED_BYTES} bytes, not {len(seed)}")
    return random_bytes(n, hashlib.sha256(seed + b"\0" + name.encode()).digest())


def seeded_labels(seed: bytes, name: str, *shape: int) -> np.ndarray:
    """Uniform labels of the given shape expanded from a seed (seeded_bytes)."""
    return seeded_bytes(seed, name, math.prod(shape) * LABEL_BYTES).reshape(*shape, LABEL_BYTES)


def random_delta() -> np.ndarray:
    """A free-XOR offset R: uniform except lsb(R) = 1, so the two labels of a wire
    always have opposite colours."""
    delta = random_labels()
    delta[0] |= 1
    return delta


def words(labels: np.ndarray) -> np.ndarray:
    """The (..., 2) little-endian uint64 view of contiguous (..., 16) uint8 labels (no copy)."""
    return labels.view(WORD)


def colour(labels: np.ndarray) -> np.ndarray:
    """The colour bit of each (..., 16) uint8 label, as uint8."""
    return labels[..., 0] & 1


def colour_masks(w: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = all-ones labels where the colour of w ((..., 2) words) is 1, else zero: full
    (..., 2) masks, because broadcasting a (..., 1) mask makes numpy loop 2 words at a time."""
    lo = out[..., 0]
    np.bitwise_and(w[..., 0], 1, out=lo)
    np.negative(lo, out=lo)
    np.copyto(out[..., 1], lo)  # ~2x faster than out[..., 1] = lo
    return out
