"""Versioned binary format for Paillier keys and ciphertext arrays (no pickle, nothing eval'ed).

Layout, big-endian: a 32-byte header
    magic b"VEILPAIL" | version u8 | kind u8 | key fingerprint 16 B | width u16 | count u32
then `count` unsigned integers of `width` bytes each. The fingerprint is the first 16 bytes
of SHA-256(n) (n as |n|/8 big-endian bytes), so an array is bound to the key it was made for.

    kind 1, public key:        count 1, width |n|/8:   n
    kind 2, private key:       count 2, width |n|/16:  p, q
    kind 3, ciphertext array:  count k, width 2|n|/8:  c_1..c_k, each checked in Z*_{n^2}

Every load checks magic, version, kind, width, fingerprint and exact length before use, and
raises ProtocolError for bytes that fail (they come from another party: a frame, a published
blob); keyfile.py turns that into a KeyFileError naming the file the user gave.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

from veil.backends.yao.paillier.keys import PrivateKey, PublicKey, check_key_size
from veil.util.errors import ProtocolError

MAGIC = b"VEILPAIL"
VERSION = 1
KIND_PUBLIC, KIND_PRIVATE, KIND_CIPHERTEXTS = 1, 2, 3
_KIND_NAMES = {KIND_PUBLIC: "public key", KIND_PRIVATE: "private key",
               KIND_CIPHERTEXTS: "ciphertext array"}
_HEADER = struct.Struct(">8sBB16sHI")
HEADER_SIZE = _HEADER.size


def _pack(kind: int, fingerprint: bytes, width: int, values: Sequence[int]) -> bytes:
    body = b"".join(int(v).to_bytes(width, "big") for v in values)
    return _HEADER.pack(MAGIC, VERSION, kind, fingerprint, width, len(values)) + body


def _unpack(data: bytes, kind: int) -> tuple[bytes, int, list[mpz]]:
    """Header checks shared by every kind -> (fingerprint, width, integers)."""
    data = bytes(data)
    what = _KIND_NAMES[kind]
    if len(data) < HEADER_SIZE:
        raise ProtocolError(f"truncated Paillier {what}: {len(data)} bytes, "
                         f"the header alone needs {HEADER_SIZE}")
    magic, version, got, fingerprint, width, count = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ProtocolError(f"not a Veil Paillier file (bad magic {magic!r}); expected a {what}")
    if version != VERSION:
        raise ProtocolError(f"unsupported Paillier format version {version} "
                         f"(this code reads {VERSION})")
    if got != kind:
        raise ProtocolError(f"expected a Paillier {what}, got a {_KIND_NAMES.get(got, f'kind {got}')}")
    if width == 0:
        raise ProtocolError(f"corrupt Paillier {what}: zero element width")
    expected = HEADER_SIZE + width * count
    if len(data) != expected:
        raise ProtocolError(f"Paillier {what} has {len(data)} bytes, header announces {expected} "
                         f"({count} x {width} B): truncated or trailing data")
    values = [mpz(int.from_bytes(data[i:i + width], "big"))
              for i in range(HEADER_SIZE, expected, width)]
    return fingerprint, width, values


def _key(cls, what: str, *args):
    """The key the integers make, or ProtocolError for the keys' own checks (an even modulus,
    p = q): a malformed key is bad data, not a bug."""
    try:
        return cls(*args)
    except ValueError as e:
        raise ProtocolError(f"corrupt Paillier {what} key: {e}") from None


def dumps_public_key(pk: PublicKey) -> bytes:
    return _pack(KIND_PUBLIC, pk.fingerprint, pk.byte_width, [pk.n])


def loads_public_key(data: bytes) -> PublicKey:
    fingerprint, _, values = _unpack(data, KIND_PUBLIC)
    if len(values) != 1:
        raise ProtocolError(f"corrupt Paillier public key: {len(values)} integers, expected 1")
    check_key_size(int(values[0]).bit_length(), ProtocolError)
    pk = _key(PublicKey, "public", values[0])
    if pk.fingerprint != fingerprint:
        raise ProtocolError("corrupt Paillier public key: fingerprint does not match n")
    return pk


def dumps_private_key(sk: PrivateKey) -> bytes:
    width = (int(sk.q).bit_length() + 7) // 8        # q >= p: |n|/16 bytes for our keys
    return _pack(KIND_PRIVATE, sk.public.fingerprint, width, [sk.p, sk.q])


def loads_private_key(data: bytes) -> PrivateKey:
    fingerprint, _, values = _unpack(data, KIND_PRIVATE)
    if len(values) != 2:
        raise ProtocolError(f"corrupt Paillier private key: {len(values)} integers, expected 2 (p, q)")
    p, q = values
    if not (gmpy2.is_prime(p) and gmpy2.is_prime(q)):
        raise ProtocolError("corrupt Paillier private key: p or q is not prime")
    check_key_size(int(p * q).bit_length(), ProtocolError)
    pk = _key(PublicKey, "private", p * q)
    if pk.fingerprint != fingerprint:
        raise ProtocolError("corrupt Paillier private key: fingerprint does not match p*q")
    return _key(PrivateKey, "private", pk, p, q)


def dumps_ciphertexts(pk: PublicKey, cts: Sequence[int]) -> bytes:
    return _pack(KIND_CIPHERTEXTS, pk.fingerprint, 2 * pk.byte_width, cts)


def loads_ciphertexts(pk: PublicKey, data: bytes) -> list[mpz]:
    """Bytes from another party -> ciphertexts, each checked to lie in Z*_{n^2}."""
    fingerprint, width, cts = _unpack(data, KIND_CIPHERTEXTS)
    if fingerprint != pk.fingerprint:
        raise ProtocolError(f"ciphertext array was made for a different Paillier key "
                         f"(fingerprint {fingerprint.hex()}, this key {pk.fingerprint.hex()})")
    if width != 2 * pk.byte_width:
        raise ProtocolError(f"ciphertext width {width} B, this key needs {2 * pk.byte_width} B")
    n, n2 = pk.n, pk.nsquare
    for i, c in enumerate(cts):
        if not 0 < c < n2:
            raise ProtocolError(f"ciphertext {i} is out of range 0 < c < n^2")
        if gmpy2.gcd(c, n) != 1:
            raise ProtocolError(f"ciphertext {i} is not a unit mod n (gcd(c, n) != 1)")
    return cts
