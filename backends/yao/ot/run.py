"""Both OT-extension parties in one process, messages passed as bytes (tests, benchmarks).

Every message goes through to_bytes / from_bytes, so the byte counts are those of a real
channel (payload only, no framing) and the parsing checks run as they would remotely.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from veil.backends.yao.ot.base import as_bits
from veil.backends.yao.ot.extension import OTExtReceiver, OTExtSender


@dataclass
class Traffic:
    """Payload bytes each way, accumulated over calls (mutable on purpose: a counter)."""
    to_sender: int = 0            # C (receiver) -> U (sender)
    to_receiver: int = 0          # U -> C
    base_to_sender: int = 0       # the part of each that is the base-OT setup
    base_to_receiver: int = 0


def setup_pair(session_id: bytes,
               traffic: Traffic | None = None) -> tuple[OTExtSender, OTExtReceiver]:
    """Run the 128 base OTs; return the (sender U, receiver C) pair ready to extend."""
    traffic = traffic if traffic is not None else Traffic()
    recv, send = OTExtReceiver(session_id), OTExtSender(session_id)
    start = recv.setup().to_bytes()
    reply = send.setup(start).to_bytes()
    recv.finish_setup(reply)
    traffic.base_to_receiver += len(start)
    traffic.base_to_sender += len(reply)
    traffic.to_receiver += len(start)
    traffic.to_sender += len(reply)
    return send, recv


def correlated_batch(send: OTExtSender, recv: OTExtReceiver, delta: bytes, choices: np.ndarray,
                     traffic: Traffic | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One correlated-OT batch on a set-up pair: (sender's m0, receiver's m_c)."""
    req = recv.extend(choices).to_bytes()
    m0, corr = send.correlated(req, delta, len(choices))
    corr_bytes = corr.to_bytes()
    mc = recv.finish_correlated(corr_bytes)
    if traffic is not None:
        traffic.to_sender += len(req)
        traffic.to_receiver += len(corr_bytes)
    return m0, mc


def run_correlated_ot(delta: bytes, choices: np.ndarray, *, session_id: bytes | None = None,
                      traffic: Traffic | None = None,
                      batch: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Setup plus correlated OTs in batches of at most `batch`: (sender_m0, receiver_mc),
    each (len(choices), 16), with receiver_mc[i] = sender_m0[i] ^ choices[i] * delta."""
    choices = as_bits(choices, "choices")
    sid = session_id if session_id is not None else secrets.token_bytes(16)
    send, recv = setup_pair(sid, traffic)
    parts = [correlated_batch(send, recv, delta, choices[a:a + batch], traffic)
             for a in range(0, len(choices), batch)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
