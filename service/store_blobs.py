"""The store's blob folder: content-addressed files `<sha256>.blob`, all mode 0600.

A blob is written to a temporary `.tmp-*` file (created 0600 by mkstemp), fsynced, then
os.replace'd onto its content address, so a name in the folder always holds its whole
content. Which blobs are in use is the database's business: this folder never decides alone
what to delete.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from veil.service.store_schema import BlobRef, StoreError

TEMP_PREFIX = ".tmp-"
SUFFIX = ".blob"


class StoreCorrupt(StoreError):
    """A blob file whose content does not match what the database recorded for it."""


class BlobDir:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)

    def file(self, sha256: str) -> Path:
        return self.path / f"{sha256}{SUFFIX}"

    def write_all(self, blobs: Mapping[str, bytes],
                  in_use: Callable[[str], bool]) -> dict[str, BlobRef]:
        """Write every blob, then make the renames durable; on failure remove the blobs
        already placed that nothing uses."""
        refs: dict[str, BlobRef] = {}
        try:
            for key, data in blobs.items():
                refs[key] = self._write(data)
            self._sync_folder()
        except BaseException:
            self.remove_unused((r.sha256 for r in refs.values()), in_use)
            raise
        return refs

    def _write(self, data: bytes) -> BlobRef:
        ref = BlobRef(hashlib.sha256(data).hexdigest(), len(data))
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.path)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            # Rewriting an existing address is harmless (same content) and repairs a damaged file.
            os.replace(tmp, self.file(ref.sha256))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return ref

    def _sync_folder(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, ref: BlobRef, what: str) -> bytes:
        """The blob's bytes, checked against its recorded size and SHA-256. FileNotFoundError
        is left to the caller, which knows whether the blob was replaced or lost."""
        path = self.file(ref.sha256)
        data = path.read_bytes()
        if len(data) != ref.size:
            raise StoreCorrupt(f"store corrupt: {what}: {path} has {len(data)} bytes, "
                               f"expected {ref.size}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != ref.sha256:
            raise StoreCorrupt(f"store corrupt: {what}: {path} has SHA-256 {digest[:16]}..., "
                               f"expected {ref.sha256[:16]}...")
        return data

    def remove_unused(self, names: Iterable[str], in_use: Callable[[str], bool]) -> None:
        for sha256 in set(names):
            if not in_use(sha256):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.file(sha256))

    def sweep(self, in_use: Callable[[str], bool]) -> None:
        """Remove what a crash can leave behind: temporary files and blobs no row uses."""
        for entry in os.scandir(self.path):
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.name.startswith(TEMP_PREFIX):
                os.unlink(entry.path)
            elif entry.name.endswith(SUFFIX) and not in_use(entry.name[:-len(SUFFIX)]):
                os.unlink(entry.path)
