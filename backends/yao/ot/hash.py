"""The correlation-robust hash of the OT extension: H(x, i) = pi(pi(x) ^ i) ^ pi(x).

pi is AES-128 under a fixed public key, so H is tweakable circular correlation robust in the
random-permutation model (Guo, Katz, Wang, Weng and Yu, S&P 2020); IKNP needs the weaker
tweakable correlation robustness: H(i, q_i ^ s) looks random to whoever knows H(i, q_i) but
not s, provided each tweak serves one OT only. The 128-bit tweak is (OT index, 64-bit session
tag), so an index never repeats within a session (it runs on across batches) nor, with
distinct session ids, across sessions. pi's key is the OT layer's own (the garbling hash has
another), so the two never query the same permutation. One ECB call per whole array keeps
AES-NI busy; numpy does the XORs on 64-bit words.
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
        """pi of every 16-byte block of x, as a (blocks, 2) uint64 array."""
        out = np.empty(x.nbytes + 16, np.uint8)        # update_into wants one block of slack
        self._pi.update_into(x.reshape(-1).view(np.uint8), out)
        return out[:x.nbytes].view(np.uint64).reshape(-1, 2)

    def hash(self, x: np.ndarray, start: int, out: np.ndarray | None = None) -> np.ndarray:
        """H of every row of x (k, 16) uint8, into `out` (C-contiguous (k, 16)) if given."""
        x = np.ascontiguousarray(x, dtype=np.uint8)
        k = x.shape[0]
        tweak = np.empty((k, 2), np.uint64)
        tweak[:, 0] = np.arange(start, start + k, dtype=np.uint64)
        tweak[:, 1] = self.tag
        px = self._perm(x)
        tweak ^= px
        if out is None:
            out = np.empty((k, 16), np.uint8)
        np.bitwise_xor(self._perm(tweak), px, out=out.view(np.uint64))
        return out
