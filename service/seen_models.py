"""The newest version of each model a user has been served: `$XDG_CONFIG_HOME/veil/seen_models`
(default ~/.config/veil/seen_models), one line per (owner key, user, model name),
`KEY COUNTER`, KEY the SHA-256 of the three.

A signed manifest stays valid forever, so a cloud could serve an older signed version of a
model (one whose weights the owner has since replaced) and the signature alone would not
tell. The owner's publish counter only grows (manifest.py), so the user remembers the largest
it has been served and refuses a smaller one, from this cloud or any other. Like
known_clouds, the file is read strictly and rewritten whole under a lock.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from veil.service.known_clouds import locked
from veil.util.atomic import atomic_write_bytes
from veil.util.errors import KeyFileError, ServiceError

FILE_MODE = 0o600


def default_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "veil" / "seen_models"


def _key(owner_id: str, user_id: str, name: str) -> str:
    return hashlib.sha256(f"{owner_id}\n{user_id}\n{name}".encode()).hexdigest()


def _read(path: Path) -> dict[str, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise KeyFileError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    seen = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or len(fields[0]) != 64 or not fields[1].isdigit():
            raise KeyFileError(f"{path} line {number}: expected KEY COUNTER")
        seen[fields[0]] = int(fields[1])
    return seen


def check_and_record(path: Path, owner_id: str, user_id: str, name: str, counter: int) -> None:
    """ServiceError if a newer version of this model was served before; else remember
    `counter` if it is the newest."""
    key = _key(owner_id, user_id, name)
    with locked(path):
        seen = _read(path)
        newest = seen.get(key, 0)
        if counter < newest:
            raise ServiceError(f"the cloud served an older version of model {name!r} (publish "
                               f"counter {counter}) than this user was served before "
                               f"({newest}, recorded in {path}): refused as a rollback")
        if counter > newest:
            seen[key] = counter
            atomic_write_bytes(path, "".join(f"{k} {v}\n" for k, v in seen.items()).encode(),
                               FILE_MODE)
