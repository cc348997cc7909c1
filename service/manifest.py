"""The signed manifest: what an owner vouches for when it publishes, and how cloud and user
check it.

The owner signs, with its Ed25519 key (owner_keys.py), the canonical JSON of everything the
cloud and the user rely on: the model's name, its public spec, the user's key size and id
(SHA-256 of the user's public key file), kappa, the structure digest and a publish counter.
The cloud checks the signature before it compiles or reads anything else; the user checks it
again when the cloud serves the model.

Replay. A signed manifest (with its upload) stays valid forever, so whoever recorded one (an
old backup, a leaked log) could send it again to roll a model back to an older version. The
counter stops that: the cloud keeps the counter of the version it serves for each (name,
user) and accepts only a larger one. `veil owner publish` uses the time in nanoseconds, so
an owner needs no state (but a clock that does not go back). A replay to another cloud that
also allows this owner is not stopped: the manifest does not name a cloud.

The ciphertexts that follow the manifest are bound to it by a seal: the owner signs the hash
of the manifest's signed bytes and of every upload frame (kind and payload), and the cloud
stores the version only if the seal verifies.
"""
from __future__ import annotations

import hashlib
import json
import re

from veil.backends.yao.framing.channel import Channel
from veil.backends.yao.framing.kinds import FrameKind
from veil.service.limits import (ALLOWED_KEY_BITS, KAPPA_RANGE, PUBLISH_COUNTER_MAX,
                                 TEST_KEY_BITS)
from veil.service.messages import check_name
from veil.service.owner_keys import RAW_BYTES, SIGNATURE_BYTES, OwnerKey, OwnerPublicKey
from veil.util.errors import ServiceError

SIGNED_FIELDS = {"name": str, "spec": str, "modulus_bits": int, "kappa": int, "digest": str,
                 "user_id": str, "counter": int}
MANIFEST_FIELDS = dict(SIGNED_FIELDS, owner_key=str, signature=str)
MANIFEST_DOMAIN = b"veil signed manifest v1\n"
SEAL_DOMAIN = b"veil upload seal v1\n"
_HEX = re.compile(r"[0-9a-f]*")


def signed_message(m: dict) -> bytes:
    body = json.dumps({k: m[k] for k in SIGNED_FIELDS}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)
    return MANIFEST_DOMAIN + body.encode()


def sign_manifest(fields: dict, key: OwnerKey) -> dict:
    """`fields` (every signed field) with the owner's public key and signature added."""
    signed = {k: fields[k] for k in SIGNED_FIELDS}
    return dict(signed, owner_key=key.public.raw.hex(),
                signature=key.sign(signed_message(signed)).hex())


def _hex(m: dict, field: str, size: int) -> bytes:
    value = m[field]
    if len(value) != 2 * size or not _HEX.fullmatch(value):
        raise ServiceError(f"manifest field {field!r} must be {2 * size} lowercase hex digits")
    return bytes.fromhex(value)


def signer(m: dict) -> OwnerPublicKey:
    """The owner key a manifest names (not yet checked against its signature)."""
    raw = _hex(m, "owner_key", RAW_BYTES)
    try:
        return OwnerPublicKey.from_raw(raw)
    except ValueError:
        raise ServiceError("manifest field 'owner_key' is not an Ed25519 public key") from None


def verify_manifest(m: dict, owner: OwnerPublicKey) -> None:
    """ServiceError unless `owner` signed exactly these fields."""
    signature = _hex(m, "signature", SIGNATURE_BYTES)
    if not owner.verify(signature, signed_message(m)):
        raise ServiceError(f"the manifest of model {m['name']!r} is not signed by owner key "
                           f"{owner.fingerprint}: refused")


def check_fields(m: dict) -> None:
    """The signed fields' own formats (types were checked by recv_json)."""
    check_name(m["name"], error=ServiceError)
    _hex(m, "digest", 32)
    _hex(m, "user_id", 32)
    if not 0 < m["counter"] <= PUBLISH_COUNTER_MAX:
        raise ServiceError(f"publish counter must be in 1..{PUBLISH_COUNTER_MAX}")


def check_kappa(kappa: int) -> int:
    if kappa not in KAPPA_RANGE:
        raise ServiceError(f"kappa {kappa} is outside {KAPPA_RANGE.start}.."
                           f"{KAPPA_RANGE.stop - 1} (40 by default, 64 for long-lived services)")
    return kappa


def key_bits_allowed(bits: int, allow_test_keys: bool) -> bool:
    return bits in ALLOWED_KEY_BITS or allow_test_keys and bits in TEST_KEY_BITS


def check_key_bits(bits: int, allow_test_keys: bool) -> int:
    if not key_bits_allowed(bits, allow_test_keys):
        allowed = ", ".join(map(str, ALLOWED_KEY_BITS))
        raise ServiceError(f"a {bits}-bit user key is not allowed on this cloud (allowed: "
                           f"{allowed}" + (", and test keys of 512..2046 bits)"
                                           if allow_test_keys else ")"))
    return bits


def check_served(m: dict, uid: str, model: str, bits: int,
                 expected: OwnerPublicKey | None) -> OwnerPublicKey:
    """The user's check of the MANIFEST a cloud serves: signed by the key it names (by
    `expected`, when the user gave one), for this user, this model and this key size, with a
    kappa in range. Returns the signer."""
    check_fields(m)
    owner = signer(m)
    if expected is not None and owner != expected:
        raise ServiceError(f"model {model!r} is signed by owner key {owner.fingerprint}, not "
                           f"by the expected {expected.fingerprint} (--owner-pub): refused")
    verify_manifest(m, owner)
    if m["name"] != model or m["user_id"] != uid:
        raise ServiceError(f"the cloud served a manifest signed for another model or user "
                           f"({m['name']!r}): refused")
    if m["modulus_bits"] != bits:
        raise ServiceError(f"model {model!r} was published for a {m['modulus_bits']}-bit key, "
                           f"this key has {bits} bits")
    check_kappa(m["kappa"])
    return owner


def seal_message(m: dict, transcript: bytes) -> bytes:
    return SEAL_DOMAIN + hashlib.sha256(signed_message(m)).digest() + transcript


def verify_seal(m: dict, owner: OwnerPublicKey, seal: dict, transcript: bytes) -> None:
    if not owner.verify(_hex(seal, "seal", SIGNATURE_BYTES), seal_message(m, transcript)):
        raise ServiceError("the upload seal does not verify: the ciphertexts are not the ones "
                           "the owner signed")


class Transcript(Channel):
    """`inner` with a running SHA-256 over the kind and payload of every frame that passes,
    in either direction: what the upload seal covers."""

    def __init__(self, inner: Channel):
        self._inner, self._hash = inner, hashlib.sha256()

    @property
    def max_payload(self) -> int:
        return self._inner.max_payload

    @max_payload.setter
    def max_payload(self, value: int) -> None:
        self._inner.max_payload = value

    def _absorb(self, kind: FrameKind, payload: bytes) -> None:
        self._hash.update(bytes([int(kind)]) + len(payload).to_bytes(8, "big"))
        self._hash.update(payload)

    def send(self, kind: FrameKind, payload) -> None:
        payload = bytes(payload)
        self._absorb(kind, payload)
        self._inner.send(kind, payload)

    def recv_any(self, expected, max_payload=None):
        kind, payload = self._inner.recv_any(expected, max_payload)
        self._absorb(kind, payload)
        return kind, payload

    def digest(self) -> bytes:
        return self._hash.digest()

    @property
    def bytes_sent(self) -> int:
        return self._inner.bytes_sent

    @property
    def bytes_received(self) -> int:
        return self._inner.bytes_received
