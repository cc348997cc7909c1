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


def atomic_write_files(files: dict[Path, bytes]) -> None:
    """Write several files all or nothing (a spec and its weights): every one is written to a
    temporary file beside its target first; then each target is moved aside and replaced.
    If anything fails, the targets are put back as they were and no temporary file stays."""
    staged: list[tuple[str, Path]] = []
    replaced: list[tuple[Path, str | None]] = []      # target, its moved-aside old version
    try:
        for path, data in files.items():
            path = Path(path)
            if not path.parent.is_dir():
                raise FileNotFoundError(f"{path}: folder {path.parent} does not exist")
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, _umask_mode())
        for tmp, path in staged:
            old = None
            if path.exists():
                old = tmp + ".old"
                os.replace(path, old)
            replaced.append((path, old))
            os.replace(tmp, path)
    except BaseException:
        for path, old in reversed(replaced):
            with contextlib.suppress(OSError):
                if old is not None:
                    os.replace(old, path)
                elif path.exists():
                    os.unlink(path)
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    for _, old in replaced:
        if old is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old)
