"""The clouds a client has met: `$XDG_CONFIG_HOME/veil/known_clouds` (default
~/.config/veil/known_clouds), one line per cloud, `HOST:PORT FINGERPRINT`, the SHA-256 of the
certificate the cloud presented the first time (trust on first use, like SSH's known_hosts).

The file decides whether a certificate is new or changed, so it is read strictly: a line that
is not an address and a fingerprint is refused (naming the file and the line) rather than
skipped, since a skipped entry would let any server be trusted on a second "first" use.
Changes are written whole with veil.util.atomic under a lock, so two clients recording at
once lose neither entry and a crash never leaves half a file.
"""
from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from veil.service.tls import parse_fingerprint
from veil.util.atomic import atomic_write_bytes
from veil.util.errors import KeyFileError, UsageError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def default_path() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "veil" / "known_clouds"


def canonical_address(host: str, port: int) -> str:
    """One spelling per address: IP literals compressed, names lowercased, IPv6 in brackets."""
    try:
        host = ipaddress.ip_address(host).compressed
    except ValueError:
        host = host.lower()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Entry:
    address: str
    fingerprint: str
    line: int


def _entries(path: Path) -> list[Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise KeyFileError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from e
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        try:
            if len(fields) != 2:
                raise UsageError("expected HOST:PORT FINGERPRINT")
            entries.append(Entry(fields[0].lower(), parse_fingerprint(fields[1]), number))
        except UsageError as e:
            raise KeyFileError(f"{path} line {number}: {e}") from e
    return entries


def lookup(path: Path, address: str) -> Entry | None:
    """The first entry for `address` (canonical_address), or None."""
    return next((e for e in _entries(path) if e.address == address), None)


@contextlib.contextmanager
def locked(path: Path):
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    fd = os.open(path.parent / f".{path.name}.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def record(path: Path, address: str, fingerprint: str) -> Entry:
    """Add `address` with `fingerprint` unless an entry for it appeared meanwhile; returns the
    entry that now holds (the caller compares it with what it saw)."""
    with locked(path):
        if (entry := lookup(path, address)) is not None:
            return entry
        try:
            old = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = ""
        if old and not old.endswith("\n"):
            old += "\n"
        atomic_write_bytes(path, f"{old}{address} {fingerprint}\n".encode(), FILE_MODE)
        return Entry(address, fingerprint, old.count("\n") + 1)
