"""The garbling hash H(x, i) = pi(pi(x) xor i) xor pi(x), pi = AES-128 under a fixed public key.

This is the tweakable circular-correlation-robust hash of Guo, Katz, Wang, Weng and Yu
("Efficient and secure multiparty computation from fixed-key block ciphers", S&P 2020): one
key schedule for the whole run, two AES blocks per hash, and it stays secure with free-XOR as
long as no tweak serves two half-gates (gc_tweaks.py guarantees that; the garbler hashes both
labels of one input under the half-gate's tweak, as half-gates prescribes).

Whole numpy batches go through OpenSSL in one `update_into` call each (AES-NI/VAES run at
hundreds of millions of blocks per second; a call costs ~1 us, so batching is what matters).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

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
    """The permutation pi over batches of 16-byte blocks.

    update_into(src, dst): dst[:src.size] = pi(src) block by block; src a flat uint8 array
    of whole blocks, dst a flat uint8 buffer at least src.size + 15 long (OpenSSL's rule).
    It is OpenSSL's own bound method: no Python frame per call.
    """

    def __init__(self) -> None:
        self.update_into = Cipher(algorithms.AES(FIXED_KEY), modes.ECB()).encryptor().update_into


class TweakHash:
    """H over batches, with preallocated buffers for up to `capacity` blocks.

    It hashes every block of x (shape (k * m, ..., 2) uint64, C-contiguous) with the tweak
    block t (shape (m, ..., 2)) repeated k times along axis 0: the layout the garbler
    ([A0, B0, A1, B1] against tweaks [j, j']) and the evaluator ([A, B]) both use.
    `bind` prepares every view once (steps run thousands of times; views cost ~0.5 us each).
    """

    def __init__(self, capacity: int) -> None:
        self._aes = FixedKeyAES()
        size = capacity * _BLOCK + _BLOCK
        self._p = np.empty(size, np.uint8)   # pi(x)
        self._pt = np.empty(size, np.uint8)  # pi(x) xor i
        self._q = np.empty(size, np.uint8)   # pi(pi(x) xor i), then the hash
        self._hw = np.empty(capacity, np.uint64)  # halves=True: word 0 of each hash
        self._hb = np.empty(capacity, np.uint8)   # halves=True: byte 8 of each hash
        self.capacity = capacity
        self.nbytes = 3 * size + 9 * capacity

    def bind(self, x: np.ndarray, t: np.ndarray, halves: bool = False
             ) -> tuple[Callable[[], None], np.ndarray | tuple[np.ndarray, np.ndarray]]:
        """(run, h): each run() sets h (shaped like x, inside this object's buffers) to
        H(x, t) for the current contents of x and t. With halves, h is (hw, hb) instead, shaped
        like x without its last axis: word 0 of each hash (uint64) and byte 8 of it (uint8; its
        bit 0 is bit 0 of word 1), contiguous: three-halves' half-hash and control bit, and
        nothing of word 1 is computed beyond that byte."""
        if x.nbytes > self.capacity * _BLOCK:
            raise ValueError(f"{x.nbytes // _BLOCK} blocks exceed the capacity {self.capacity}")
        if not x.flags.c_contiguous:  # reshape(-1) would silently hash a copy
            raise ValueError("x must be C-contiguous")
        k = len(x) // len(t)
        n = x.nbytes
        p, pt, q = (b[:n].view(x.dtype).reshape(x.shape) for b in (self._p, self._pt, self._q))
        p_k, pt_k = p.reshape(k, *t.shape), pt.reshape(k, *t.shape)
        x_flat, pt_flat = _flat(x), self._pt[:n]
        update, xor = self._aes.update_into, np.bitwise_xor

        def run() -> None:
            update(x_flat, self._p)
            xor(p_k, t, out=pt_k)
            update(pt_flat, self._q)
            xor(q, p, out=q)
        if not halves:
            return run, q
        hw = self._hw[:n // _BLOCK].reshape(x.shape[:-1])
        hb = self._hb[:n // _BLOCK].reshape(x.shape[:-1])
        q0, p0 = q[..., 0], p[..., 0]
        q8, p8 = q.view(np.uint8)[..., 8], p.view(np.uint8)[..., 8]

        def run_halves() -> None:
            update(x_flat, self._p)
            xor(p_k, t, out=pt_k)
            update(pt_flat, self._q)
            xor(q0, p0, out=hw)
            xor(q8, p8, out=hb)
        return run_halves, (hw, hb)

    def hash(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """H(x, t) in one go (a view into the buffers, valid until the next call)."""
        run, h = self.bind(x, t)
        run()
        return h


def hash_reference(x: bytes, tweak: int) -> bytes:
    """H for one 16-byte block and a 128-bit tweak (the tweak's little-endian bytes), written
    block by block; the tests check the batched code against it."""
    aes = Cipher(algorithms.AES(FIXED_KEY), modes.ECB()).encryptor()
    px = aes.update(x)
    mixed = bytes(a ^ b for a, b in zip(px, tweak.to_bytes(16, "little")))
    return bytes(a ^ b for a, b in zip(aes.update(mixed), px))
