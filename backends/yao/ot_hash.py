"""The correlation-robust hash of the OT extension: H(x, i) = pi(pi(x) ^ i) ^ pi(x).

pi is AES-128 under a fixed public key, so H is tweakable circular correlation robust in the
random-permutation model (Guo-Katz-Wang-Yu 2020), which is what IKNP needs to hash rows that
differ by the secret s. The 128-bit tweak i is (OT index, session tag): unique per OT and per
session, so no two hash queries of a session (nor of two sessions) share a tweak. pi's key is
specific to the OT layer, keeping it apart from the garbling hash. One ECB call per whole
array keeps AES-NI busy; numpy does the XORs on 64-bit words.
"""
from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PI_KEY = hashlib.sha256(b"veil/ot/fixed-key-aes").digest()[:16]


class TweakedHash:
    """`hash(x, start)` for x of shape (k, 16): row j hashed with tweak (start + j, tag)."""

    def __init__(self, session_id: bytes) -> None:
        self.tag = np.uint64(int.from_bytes(
            hashlib.sha256(b"veil/ot/tweak" + session_id).digest()[:8], "little"))
        self._pi = Cipher(algorithms.AES(PI_KEY), modes.ECB()).encryptor()

    def _perm(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(x.size + 16, np.uint8)          # update_into wants one block of slack
        self._pi.update_into(x.reshape(-1), out)
        return out[:x.size].reshape(x.shape)

    def hash(self, x: np.ndarray, start: int) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.uint8)
        k = x.shape[0]
        tweak = np.empty((k, 2), np.uint64)
        tweak[:, 0] = np.arange(start, start + k, dtype=np.uint64)
        tweak[:, 1] = self.tag
        px = self._perm(x)
        mixed = px.view(np.uint64) ^ tweak
        out = self._perm(mixed.view(np.uint8))
        out.view(np.uint64)[...] ^= px.view(np.uint64)
        return out
