"""PRG expansion of the base-OT seeds: one AES-128-CTR keystream per seed.

Each seed keys its own stream (counter block starting at zero); the streams are stateful, so
successive extension batches consume fresh keystream and the base OTs are reused safely:
both parties draw the same number of bytes per batch, so they stay in step.
"""
from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class SeedStreams:
    """`next(nbytes)` -> (len(seeds), nbytes) uint8: the next nbytes of every stream."""

    def __init__(self, seeds: np.ndarray) -> None:
        if seeds.ndim != 2 or seeds.shape[1] != 16 or seeds.dtype != np.uint8:
            raise ValueError("seeds must be a (k, 16) uint8 array")
        self._enc = [Cipher(algorithms.AES(s.tobytes()), modes.CTR(bytes(16))).encryptor()
                     for s in seeds]
        self._zeros = np.zeros(0, np.uint8)

    def next(self, nbytes: int) -> np.ndarray:
        if self._zeros.size < nbytes:
            self._zeros = np.zeros(nbytes, np.uint8)
        zeros, k = self._zeros[:nbytes], len(self._enc)
        # update_into wants a block of slack after its output: row j writes its nbytes and
        # may claim (never write) the start of row j + 1, which is written next
        flat = np.empty(k * nbytes + 16, np.uint8)
        for j, enc in enumerate(self._enc):
            enc.update_into(zeros, flat[j * nbytes:(j + 1) * nbytes + 16])
        return flat[:k * nbytes].reshape(k, nbytes)
