"""IKNP OT extension (semi-honest), lambda = 128: the receiver's and the sender's state machines.

    receiver C (choices r)                     sender U (random s in {0,1}^128)
    base-OT *sender*: seed pairs (k0_j, k1_j)  base-OT *receiver* with choices s: k_{s_j}
    t_j = G(k0_j),  u_j = t_j ^ G(k1_j) ^ r  --u-->  q_j = G(k_{s_j}) ^ s_j u_j = t_j ^ s_j r
    transpose: rows t_i                              transpose: rows q_i = t_i ^ r_i s
    output H(i, t_i) = x_{r_i}                       x0_i = H(i, q_i), x1_i = H(i, q_i ^ s)

Random OT outputs (x0, x1) / x_r directly; chosen-message OT sends y_b = m_b ^ x_b (32 B per
OT); correlated OT (sender's global R, pair (x0, x0 ^ R)) sends d = x0 ^ x1 ^ R (16 B per OT)
and the receiver outputs x_r ^ r d. One setup (128 base OTs) serves any number of batches:
the PRG streams and the OT index (the hash tweak) carry on from batch to batch, so both
parties must run the same sequence of batch sizes.

session_id: public, agreed by both parties, unique per session (e.g. 16 random bytes chosen
by one side); it separates the base-OT keys and the hash tweaks of different sessions.

Usage (each arrow is one message; every message can be sent as bytes):
    recv, send = OTExtReceiver(sid), OTExtSender(sid)
    recv.finish_setup(send.setup(recv.setup()))
    req = recv.extend(choices)                       # C -> U
    m0, corr = send.correlated(req, delta, len(choices))
    mc = recv.finish_correlated(corr)                # U -> C
"""
from __future__ import annotations

import secrets

import numpy as np

from veil.backends.yao.ot.base import BaseOTReceiver, BaseOTSender, as_bits
from veil.backends.yao.ot.hash import TweakedHash
from veil.backends.yao.ot.messages import (BLOCK, KAPPA, BaseOTReply, BaseOTStart, Bytes,
                                            ChosenReply, CorrectionReply, ExtendRequest)
from veil.backends.yao.ot.prg import SeedStreams
from veil.backends.yao.ot.transpose import transpose_bits

Request = ExtendRequest | np.ndarray | Bytes        # any form of C's message; all are checked
Pair = tuple[np.ndarray, np.ndarray]

CHUNK_BYTES = 4096          # columns per step: 32K OTs, 512 KB per 128-row slice (in L2)


def _chunks(m: int):
    """(first byte, last byte, first OT, OT count) of each step over m OTs."""
    nb = -(-m // 8)
    for a in range(0, nb, CHUNK_BYTES):
        b = min(nb, a + CHUNK_BYTES)
        yield a, b, 8 * a, min(m, 8 * b) - 8 * a


def _block(x: bytes | np.ndarray, what: str) -> np.ndarray:
    arr = np.frombuffer(x, np.uint8) if isinstance(x, (bytes, bytearray)) else np.asarray(x)
    if arr.dtype != np.uint8 or arr.shape != (BLOCK,):
        raise ValueError(f"{what} must be {BLOCK} bytes")
    return arr


def _blocks(x: np.ndarray, m: int, what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.shape != (m, BLOCK):
        raise ValueError(f"{what} must be a uint8 array of shape ({m}, {BLOCK})")
    return x


class OTExtReceiver:
    """C: setup() -> [send] finish_setup(reply); then per batch extend(choices) -> [send]
    and one of finish_random() / finish_chosen(reply) / finish_correlated(reply)."""

    def __init__(self, session_id: bytes) -> None:
        self._base = BaseOTSender(KAPPA, session_id)
        self._hash = TweakedHash(session_id)
        self._g0: SeedStreams | None = None
        self._g1: SeedStreams | None = None
        self._count = 0                                     # OTs so far = next tweak index
        self._pending: Pair | None = None                  # (choices, H(i, t_i))

    def setup(self) -> BaseOTStart:
        return self._base.start()

    def finish_setup(self, reply: BaseOTReply | Bytes) -> None:
        k0, k1 = self._base.finish(reply)
        self._g0, self._g1 = SeedStreams(k0), SeedStreams(k1)

    def extend(self, choices: np.ndarray) -> ExtendRequest:
        if self._g0 is None or self._g1 is None:
            raise RuntimeError("extend before finish_setup")
        if self._pending is not None:
            raise RuntimeError("previous batch not finished")
        c = as_bits(choices, "choices")
        m = len(c)
        r = np.packbits(c, bitorder="little")
        u = np.empty(ExtendRequest.shape(m), np.uint8)
        pads = np.empty((m, BLOCK), np.uint8)
        for a, b, i, k in _chunks(m):
            t = self._g0.next(b - a)
            np.bitwise_xor(t, self._g1.next(b - a), out=u[:, a:b])
            u[:, a:b] ^= r[a:b]
            self._hash.hash(transpose_bits(t, overwrite=True)[:k], self._count + i,
                            out=pads[i:i + k])
        self._count += m
        self._pending = (c, pads)
        return ExtendRequest(u)

    def _pending_batch(self) -> Pair:
        if self._pending is None:
            raise RuntimeError("no batch pending: call extend first")
        return self._pending

    def finish_random(self) -> np.ndarray:
        """x_{r_i}, shape (m, 16)."""
        pads = self._pending_batch()[1]
        self._pending = None
        return pads

    def finish_chosen(self, reply: ChosenReply | np.ndarray | Bytes) -> np.ndarray:
        """m_{r_i}, shape (m, 16)."""
        c, pads = self._pending_batch()
        y = ChosenReply.parse(reply, len(c)).data         # a malformed reply keeps the batch
        self._pending = None
        return np.where(c[:, None].astype(bool), y[1], y[0]) ^ pads

    def finish_correlated(self, reply: CorrectionReply | np.ndarray | Bytes) -> np.ndarray:
        """m0_i ^ r_i R, shape (m, 16)."""
        c, pads = self._pending_batch()
        d = CorrectionReply.parse(reply, len(c)).data
        self._pending = None
        select = (0 - c.astype(np.uint64))[:, None]         # all-zero or all-one words
        pads.view(np.uint64)[...] ^= d.view(np.uint64) & select
        return pads


class OTExtSender:
    """U: setup(start) -> [send]; then per batch one of random(req, m) /
    chosen(req, m0, m1) -> [send] / correlated(req, R, m) -> [send]."""

    def __init__(self, session_id: bytes) -> None:
        s = np.frombuffer(secrets.token_bytes(KAPPA // 8), np.uint8)
        self._s = s                                          # as a 16-byte row
        self._s_mask = 0 - np.unpackbits(s, bitorder="little")   # 0xFF where s_j = 1
        self._base = BaseOTReceiver(np.unpackbits(s, bitorder="little"), session_id)
        self._hash = TweakedHash(session_id)
        self._g: SeedStreams | None = None
        self._count = 0

    def setup(self, start: BaseOTStart | Bytes) -> BaseOTReply:
        if self._g is not None:
            raise RuntimeError("setup called twice")
        reply, keys = self._base.respond(start)
        self._g = SeedStreams(keys)
        return reply

    def _pads(self, req: Request, m: int) -> Pair:
        """(H(i, q_i), H(i, q_i ^ s)) for the batch, each (m, 16)."""
        if self._g is None:
            raise RuntimeError("extension before setup")
        if not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError("m must be a positive int")
        m = int(m)
        u = ExtendRequest.parse(req, m).data
        x0 = np.empty((m, BLOCK), np.uint8)
        x1 = np.empty((m, BLOCK), np.uint8)
        s64 = self._s.view(np.uint64)
        for a, b, i, k in _chunks(m):
            q = self._g.next(b - a)
            q ^= u[:, a:b] & self._s_mask[:, None]
            rows = transpose_bits(q, overwrite=True)[:k]
            self._hash.hash(rows, self._count + i, out=x0[i:i + k])
            rows.view(np.uint64)[...] ^= s64
            self._hash.hash(rows, self._count + i, out=x1[i:i + k])
        self._count += m
        return x0, x1

    def random(self, req: Request, m: int) -> Pair:
        """Random OT: (x0, x1), each (m, 16); the receiver gets x_{r_i}."""
        return self._pads(req, m)

    def chosen(self, req: Request, m0: np.ndarray, m1: np.ndarray) -> ChosenReply:
        """Chosen-message OT of (m0[i], m1[i]), each (m, 16) uint8."""
        m = len(m0) if isinstance(m0, np.ndarray) else 0
        _blocks(m0, m, "m0"), _blocks(m1, m, "m1")
        x0, x1 = self._pads(req, m)
        return ChosenReply(np.stack([m0 ^ x0, m1 ^ x1]))

    def correlated(self, req: Request, delta: bytes | np.ndarray,
                   m: int) -> tuple[np.ndarray, CorrectionReply]:
        """Correlated OT with global R = delta: returns m0 (m, 16) (pairs are (m0, m0 ^ R))
        and the correction message."""
        r = _block(delta, "delta")
        x0, x1 = self._pads(req, m)
        d = x1.view(np.uint64)
        d ^= x0.view(np.uint64)
        d ^= r.view(np.uint64)
        return x0, CorrectionReply(x1)
