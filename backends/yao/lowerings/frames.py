"""Frames both lowerings exchange: ciphertext lists, the batch request, OT set-up bounds.

Every receive states what it expects: a ciphertext list its exact count (under a named key,
checked by the codec), a batch request its largest batch. Nothing is trusted for a size.
"""
from __future__ import annotations

from collections.abc import Sequence

from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.framing.payloads import pack_ints, unpack_ints

OT_SETUP_BYTES = 1 << 20       # one base-OT message (lambda group elements, a few kilobytes)
BATCH_REQUEST_BYTES = 64       # one small integer


def send_cts(ch: Channel, pk: P.PublicKey, cts: Sequence[mpz]) -> None:
    ch.send(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, list(cts)))


def recv_cts(ch: Channel, pk: P.PublicKey, count: int) -> list[mpz]:
    """Exactly `count` ciphertexts under `pk`, or a ProtocolError."""
    cts = P.loads_ciphertexts(pk, ch.recv(Kind.CIPHERTEXTS,
                                          max_payload=count * pk.byte_width * 2 + 256))
    if len(cts) != count:
        raise ProtocolError(f"expected {count} ciphertexts, got {len(cts)}")
    return cts


def send_batch_request(ch: Channel, patches: int) -> None:
    """The user's announcement of its next batch: how many patches (the size is public)."""
    ch.send(Kind.INTEGERS, pack_ints([patches], 2))


def read_batch_request(payload: bytes, max_patches: int) -> int:
    (patches,) = unpack_ints(payload, 1 << 16, 1)       # two bytes on the wire
    check_batch(patches, max_patches, ProtocolError)
    return patches


def recv_batch_request(ch: Channel, max_patches: int) -> int:
    return read_batch_request(ch.recv(Kind.INTEGERS, max_payload=BATCH_REQUEST_BYTES), max_patches)


def check_batch(patches: int, max_patches: int, error: type[Exception]) -> None:
    if not 0 < patches <= max_patches:
        raise error(f"a batch of {patches} patches (1 to {max_patches} allowed)")


PUBLIC_KEY_BYTES = 4096        # a Paillier public key (its modulus and a header)


def send_public_key(ch: Channel, pk: P.PublicKey) -> None:
    ch.send(Kind.PUBLIC_KEY, P.dumps_public_key(pk))


def recv_public_key(ch: Channel) -> P.PublicKey:
    return P.loads_public_key(ch.recv(Kind.PUBLIC_KEY, max_payload=PUBLIC_KEY_BYTES))
