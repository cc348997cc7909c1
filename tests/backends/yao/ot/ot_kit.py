"""Helpers shared by the OT tests (no tests here): deterministic randomness and bit vectors.

`DetSecrets` stands in for the `secrets` module inside the OT modules, so one party's
randomness can be fixed for a test. It is test-only: SHAKE-256 of a seed and a counter.
"""
from __future__ import annotations

import hashlib
import secrets

import numpy as np

from veil.backends.yao.ot import extension as ot_extension
from veil.backends.yao.ot import group as ot_group


class DetSecrets:
    """token_bytes / randbelow from SHAKE-256(seed || counter): reproducible, test-only."""

    def __init__(self, seed: bytes, exponents: list[int] | None = None) -> None:
        self.seed, self.counter = seed, 0
        self.exponents = list(exponents) if exponents is not None else None

    def token_bytes(self, n: int) -> bytes:
        self.counter += 1
        return hashlib.shake_256(self.seed + self.counter.to_bytes(8, "big")).digest(n)

    def randbelow(self, n: int) -> int:
        if self.exponents is not None:               # scripted values, for exact-view tests
            return self.exponents.pop(0) % n
        return int.from_bytes(self.token_bytes((n.bit_length() + 7) // 8 + 16), "big") % n


def fix_randomness(monkeypatch, seed: bytes, exponents: list[int] | None = None) -> DetSecrets:
    """Make every draw of the OT modules deterministic until monkeypatch undoes it."""
    fake = DetSecrets(seed, exponents)
    monkeypatch.setattr(ot_group, "secrets", fake)
    monkeypatch.setattr(ot_extension, "secrets", fake)
    return fake


def random_bits(n: int) -> np.ndarray:
    return np.frombuffer(secrets.token_bytes(n), np.uint8) & 1


def random_blocks(n: int) -> np.ndarray:
    return np.frombuffer(secrets.token_bytes(16 * n), np.uint8).reshape(n, 16).copy()


def select(c: np.ndarray, m0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    return np.where(c[:, None].astype(bool), m1, m0)
