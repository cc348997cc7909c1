"""The garbling hash H(x, i) = pi(pi(x) xor i) xor pi(x), pi = AES-128 under a fixed public key.

This is the tweakable circular-correlation-robust hash of Guo, Katz, Wang, Weng and Yu
("Efficient and secure multiparty computation from fixed-key block ciphers", S&P 2020): one
key schedule for the whole run, two AES blocks per hash, and it stays secure with free-XOR as
long as every tweak i is used once per garbling (gc_tweaks.py guarantees that).

Whole numpy batches go through OpenSSL in one `update_into` call each (AES-NI/VAES run at
hundreds of millions of blocks per second; a call costs ~1 us, so batching is what matters).
"""
from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# Nothing up the sleeve: the key is public and fixed; security rests on pi being a random
# permutation, not on the key being secret.
FIXED_KEY = hashlib.sha256(b"veil/yao/fixed-key-aes/v1").digest()[:16]

_BLOCK = 16


def _flat(a: np.ndarray) -> np.ndarray:
    """A 1-D uint8 view of a C-contiguous array (what update_into accepts)."""
    return a.reshape(-1).view(np.uint8)


class FixedKeyAES:
    """The permutation pi over batches of 16-byte blocks."""

    def __init__(self) -> None:
        self._enc = Cipher(algorithms.AES(FIXED_KEY), modes.ECB()).encryptor()

    def permute(self, src: np.ndarray, dst: np.ndarray) -> None:
        """dst[:src.nbytes] = pi(src) block by block; src is C-contiguous, dst a flat uint8
        buffer at least src.nbytes + 15 long (OpenSSL's requirement for update_into)."""
        if src.nbytes % _BLOCK:
            raise ValueError("AES input is not a whole number of blocks")
        self._enc.update_into(_flat(src), dst)


class TweakHash:
    """H over batches, with preallocated buffers for up to `capacity` blocks.

    hash(x, t) hashes every block of x (shape (k * m, ..., 2) uint64, C-contiguous) with the
    tweak block t (shape (m, ..., 2)) repeated k times along axis 0: the layout the garbler
    ([A0, B0, A1, B1] against tweaks [j, j']) and the evaluator ([A, B]) both use.
    The result is a view into an internal buffer, valid until the next call.
    """

    def __init__(self, capacity: int) -> None:
        self._aes = FixedKeyAES()
        size = capacity * _BLOCK + _BLOCK
        self._p = np.empty(size, np.uint8)   # pi(x)
        self._pt = np.empty(size, np.uint8)  # pi(x) xor i
        self._q = np.empty(size, np.uint8)   # pi(pi(x) xor i), then the hash
        self.capacity = capacity

    def _view(self, buf: np.ndarray, like: np.ndarray) -> np.ndarray:
        return buf[:like.nbytes].view(like.dtype).reshape(like.shape)

    def hash(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if x.nbytes > self.capacity * _BLOCK:
            raise ValueError(f"{x.nbytes // _BLOCK} blocks exceed the capacity {self.capacity}")
        k = len(x) // len(t)
        p, pt, q = (self._view(b, x) for b in (self._p, self._pt, self._q))
        self._aes.permute(x, self._p)
        np.bitwise_xor(p.reshape(k, *t.shape), t, out=pt.reshape(k, *t.shape))
        self._aes.permute(pt, self._q)
        np.bitwise_xor(q, p, out=q)
        return q


def hash_reference(x: bytes, tweak: int) -> bytes:
    """H for one 16-byte block and a 128-bit tweak (the tweak's little-endian bytes), written
    block by block; the tests check the batched code against it."""
    aes = Cipher(algorithms.AES(FIXED_KEY), modes.ECB()).encryptor()
    px = aes.update(x)
    mixed = bytes(a ^ b for a, b in zip(px, tweak.to_bytes(16, "little")))
    return bytes(a ^ b for a, b in zip(aes.update(mixed), px))
