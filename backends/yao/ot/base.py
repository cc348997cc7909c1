"""Base OTs: Chou-Orlandi "simplest OT" as n random OTs, semi-honest.

    sender                                  receiver (choice c_i)
    a <- Z_q*, A = g^a          --A-->
                                <--B_i--    b_i <- Z_q*, B_i = g^b_i * A^c_i
    k0_i = K(i, 0, B_i^a)                   k_i = K(i, c_i, A^b_i)  (= k_{c_i})
    k1_i = K(i, 1, (B_i / A)^a)

B_i is a uniform subgroup element whatever c_i is, so the sender learns nothing about the
choices (perfectly); the receiver would need g^{a*b}/A^a = CDH to get the other key. The key
hash K binds the session id, the index, the bit and the transcript (A, B_i), which is the
fix for the known weakness of hashing only the shared element.
"""
from __future__ import annotations

import hashlib

import gmpy2
import numpy as np
from gmpy2 import mpz

from veil.backends.yao.ot import group as grp
from veil.backends.yao.ot.messages import BLOCK, BaseOTReply, BaseOTStart, Bytes


def _key(sid: bytes, i: int, bit: int, a_pub: mpz, b_pub: mpz, shared: mpz) -> bytes:
    h = hashlib.sha256(b"veil/ot/base-key")
    h.update(len(sid).to_bytes(2, "big") + sid)
    h.update(i.to_bytes(4, "big") + bytes([bit]))
    h.update(grp.encode(a_pub) + grp.encode(b_pub) + grp.encode(shared))
    return h.digest()[:BLOCK]


def _check_sid(session_id: bytes) -> bytes:
    if not isinstance(session_id, bytes) or not 1 <= len(session_id) <= 1024:
        raise ValueError("session_id must be 1..1024 bytes")
    return session_id


class BaseOTSender:
    """n random OTs: `start` -> message; `finish(reply)` -> key pairs (k0, k1), each (n, 16)."""

    def __init__(self, n: int, session_id: bytes) -> None:
        if n < 1:
            raise ValueError("need at least one base OT")
        self.n, self.sid = n, _check_sid(session_id)
        self._a: mpz | None = None
        self._a_pub: mpz | None = None

    def start(self) -> BaseOTStart:
        if self._a_pub is not None:
            raise RuntimeError("BaseOTSender.start called twice")
        self._a = grp.random_exponent()
        self._a_pub = gmpy2.powmod(grp.G, self._a, grp.P)
        return BaseOTStart(self._a_pub)

    def finish(self, reply: BaseOTReply | Bytes) -> tuple[np.ndarray, np.ndarray]:
        if self._a is None:
            raise RuntimeError("BaseOTSender.finish before start, or twice")
        if not isinstance(reply, BaseOTReply):
            reply = BaseOTReply.from_bytes(reply, self.n)
        elif len(reply.b_pub) != self.n:
            raise ValueError(f"BaseOTReply: expected {self.n} elements, got {len(reply.b_pub)}")
        a, a_pub = self._a, self._a_pub
        self._a = None                                          # one use of the secret
        inv_aa = gmpy2.invert(gmpy2.powmod(a_pub, a, grp.P), grp.P)     # A^-a
        k0 = np.empty((self.n, BLOCK), np.uint8)
        k1 = np.empty((self.n, BLOCK), np.uint8)
        for i, b_pub in enumerate(reply.b_pub):
            z0 = gmpy2.powmod(b_pub, a, grp.P)
            k0[i] = np.frombuffer(_key(self.sid, i, 0, a_pub, b_pub, z0), np.uint8)
            z1 = z0 * inv_aa % grp.P                                    # (B / A)^a
            k1[i] = np.frombuffer(_key(self.sid, i, 1, a_pub, b_pub, z1), np.uint8)
        return k0, k1


class BaseOTReceiver:
    """n random OTs with choice bits c: `respond(start)` -> (reply, keys k_c of shape (n, 16))."""

    def __init__(self, choices: np.ndarray, session_id: bytes) -> None:
        self.choices = as_bits(choices, "choices")
        self.sid = _check_sid(session_id)

    def respond(self, start: BaseOTStart | Bytes) -> tuple[BaseOTReply, np.ndarray]:
        if not isinstance(start, BaseOTStart):
            start = BaseOTStart.from_bytes(start)
        a_pub = start.a_pub
        b_pubs, keys = [], np.empty((len(self.choices), BLOCK), np.uint8)
        for i, c in enumerate(self.choices.tolist()):
            b = grp.random_exponent()
            b_pub = gmpy2.powmod(grp.G, b, grp.P)
            if c:
                b_pub = b_pub * a_pub % grp.P
            b_pubs.append(b_pub)
            shared = gmpy2.powmod(a_pub, b, grp.P)
            keys[i] = np.frombuffer(_key(self.sid, i, c, a_pub, b_pub, shared), np.uint8)
        return BaseOTReply(tuple(b_pubs)), keys


def as_bits(choices: np.ndarray, what: str) -> np.ndarray:
    """A non-empty 1-D vector of 0/1 values as uint8; ValueError otherwise."""
    c = np.asarray(choices)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array of bits")
    if c.dtype != np.bool_ and not np.issubdtype(c.dtype, np.integer):
        raise ValueError(f"{what} must be bool or integer, got {c.dtype}")
    if not np.all((c == 0) | (c == 1)):
        raise ValueError(f"{what} must contain only 0 and 1")
    return c.astype(np.uint8)
