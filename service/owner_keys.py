"""Owner keys: the Ed25519 key pair a model owner signs publishes with, and its two files.

A cloud accepts a publish only when it is signed by a key its operator allowed (`veil cloud
allow-owner`), and a user may insist on one owner's key (`--owner-pub`). An owner is known by
its fingerprint, the hex SHA-256 of the raw 32-byte public key.

Both files are PEM with one line in front naming the format and its version, so a key of
another kind (a Paillier key, a TLS key) is refused by name and a later format can be told
apart:

    OWNER.key (0600)   "veil-owner-key 1", then PKCS#8 "PRIVATE KEY" PEM
    OWNER.pub          "veil-owner-public-key 1", then SubjectPublicKeyInfo "PUBLIC KEY" PEM
"""
from __future__ import annotations

import hashlib
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

from veil.util.atomic import atomic_write_bytes
from veil.util.errors import KeyFileError, UsageError

FORMAT_VERSION = 1
PRIVATE_HEADER = "veil-owner-key"
PUBLIC_HEADER = "veil-owner-public-key"
RAW_BYTES = 32                       # an Ed25519 public key
SIGNATURE_BYTES = 64
MAX_FILE_BYTES = 4096                # a key file is a few hundred bytes


class OwnerKeyPermissionWarning(UserWarning):
    """An owner's private key file that group or others may read."""


def fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class OwnerPublicKey:
    raw: bytes                       # the 32 bytes of the Ed25519 public key

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def from_raw(cls, raw: bytes) -> OwnerPublicKey:
        """ValueError unless 32 bytes that are a valid Ed25519 point."""
        if len(raw) != RAW_BYTES:
            raise ValueError(f"an owner key is {RAW_BYTES} bytes, not {len(raw)}")
        Ed25519PublicKey.from_public_bytes(raw)
        return cls(bytes(raw))


@dataclass(frozen=True)
class OwnerKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> OwnerPublicKey:
        return OwnerPublicKey(self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def _pem(header: str, pem: bytes) -> bytes:
    return f"{header} {FORMAT_VERSION}\n".encode() + pem


def dumps_public(pub: OwnerPublicKey) -> bytes:
    key = Ed25519PublicKey.from_public_bytes(pub.raw)
    return _pem(PUBLIC_HEADER, key.public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo))


def owner_id_of(text: str) -> str:
    """The fingerprint of the owner named by `text`: an OWNER.pub file, or the fingerprint
    itself (64 hex digits, as `veil cloud owners` lists it)."""
    if Path(text).is_file():
        return load_public(text).fingerprint
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    raise UsageError(f"{text[:80]!r} is neither an owner's public key file nor an owner "
                     "fingerprint (64 hex digits)")


def keygen(path: str | os.PathLike) -> tuple[Path, Path, OwnerKey]:
    """OWNER.key (0600) and OWNER.pub beside it, each written atomically. An existing
    OWNER.key is never overwritten: its model names belong to it."""
    key_path = Path(path)
    pub_path = key_path.with_suffix(".pub")
    if key_path.resolve() == pub_path.resolve():
        raise UsageError(f"{path}: the private key needs a name other than *.pub")
    if key_path.exists():
        raise UsageError(f"{path} exists: refusing to replace an owner key (the models it "
                         "published belong to it); choose another name")
    key = OwnerKey(Ed25519PrivateKey.generate())
    private_pem = key.private.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
    atomic_write_bytes(key_path, _pem(PRIVATE_HEADER, private_pem), 0o600)
    atomic_write_bytes(pub_path, dumps_public(key.public), 0o644)
    return key_path, pub_path, key


def _body(path: str | os.PathLike, header: str, what: str) -> bytes:
    """The PEM after the header line, or KeyFileError naming the file and the problem."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise KeyFileError(f"{path}: not a veil {what} (larger than {MAX_FILE_BYTES} bytes)")
    first, _, rest = data.partition(b"\n")
    name, _, version = first.decode("ascii", "replace").strip().partition(" ")
    if name != header:
        raise KeyFileError(f"{path}: not a veil {what} (its first line should be "
                           f"'{header} {FORMAT_VERSION}')")
    if version != str(FORMAT_VERSION):
        raise KeyFileError(f"{path}: {what} format version {version!r} is not supported "
                           f"(this veil reads version {FORMAT_VERSION})")
    return rest


def load_public(path: str | os.PathLike) -> OwnerPublicKey:
    body = _body(path, PUBLIC_HEADER, "owner public key")
    try:
        key = serialization.load_pem_public_key(body)
    except ValueError as e:
        raise KeyFileError(f"{path}: cannot load owner public key: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: owner public key is not an Ed25519 key")
    return OwnerPublicKey(key.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw))


def load_private(path: str | os.PathLike) -> OwnerKey:
    body = _body(path, PRIVATE_HEADER, "owner private key")
    try:
        key = serialization.load_pem_private_key(body, password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"{path}: cannot load owner private key: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: owner private key is not an Ed25519 key")
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        warnings.warn(f"{path}: private key file is accessible by group or others (chmod 600)",
                      OwnerKeyPermissionWarning, stacklevel=2)
    return OwnerKey(key)
