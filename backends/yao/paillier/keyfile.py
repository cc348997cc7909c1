"""Key files: atomic writes, private keys never readable by anyone but the owner.

A key is written to a temporary file in the destination folder (created 0600 by mkstemp,
so the secret is never briefly world-readable), fsynced, then os.replace'd over the target:
a crash leaves either the old file or the new one, never half a key, and a failed write
removes the temporary file.
"""
from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

from veil.backends.yao.paillier.codec import (
    dumps_private_key, dumps_public_key, loads_private_key, loads_public_key)
from veil.backends.yao.paillier.keys import PrivateKey, PublicKey
from veil.util.atomic import atomic_write_bytes
from veil.util.errors import KeyFileError, ProtocolError

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


class KeyFilePermissionWarning(UserWarning):
    """A private key file that group or others may read."""


def _read(path: str | os.PathLike, what: str, loads):
    """A key from a file the user named: bad content is a KeyFileError naming the file (an
    unreadable path stays the OSError it is)."""
    data = Path(path).read_bytes()
    try:
        return loads(data)
    except ProtocolError as e:
        raise KeyFileError(f"{path}: cannot load Paillier {what}: {e}") from e


def save_private_key(path: str | os.PathLike, sk: PrivateKey) -> None:
    atomic_write_bytes(path, dumps_private_key(sk), PRIVATE_MODE)


def save_public_key(path: str | os.PathLike, pk: PublicKey) -> None:
    atomic_write_bytes(path, dumps_public_key(pk), PUBLIC_MODE)


def load_private_key(path: str | os.PathLike) -> PrivateKey:
    sk = _read(path, "private key", loads_private_key)
    if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
        warnings.warn(f"{path}: private key file is accessible by group or others (chmod 600)",
                      KeyFilePermissionWarning, stacklevel=2)
    return sk


def load_public_key(path: str | os.PathLike) -> PublicKey:
    return _read(path, "public key", loads_public_key)
