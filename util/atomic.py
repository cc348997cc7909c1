"""Atomic file writes: a temporary file in the target's folder, then os.replace, so a failed
or interrupted write never leaves a partial file under the target's name."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_target(path: Path, mode: int | None = None, suffix: str = ""):
    """Yield a temporary path beside `path`; on success give it `mode` (default: as a
    newly created file would get) and move it onto `path`; on failure remove it."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _umask_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """The temporary file is created 0600 (mkstemp), so a secret is never readable by others
    while it is written; it gets `mode` just before it takes the target's name."""
    with atomic_target(path, mode) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())
