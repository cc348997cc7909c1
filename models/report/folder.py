"""The report folder appears complete or not at all: everything is written into a temporary
sibling folder, which is then renamed onto the target. A target that exists and holds
anything is refused, unless the marker file says it is an earlier Veil report (replaced)."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from veil.util.errors import UsageError
from veil.util.exchange import exchange

MARKER = ".veil-report"


class ReportError(UsageError):
    """A report folder that cannot be written (exists with other content, no parent)."""


def check_report_folder(target: str | os.PathLike) -> Path:
    """Refuse, before any work, a folder the report may not take."""
    target = Path(target)
    if not target.parent.is_dir():
        raise ReportError(f"report folder {target}: {target.parent} does not exist")
    if target.exists() and not target.is_dir():
        raise ReportError(f"report folder {target} is a file")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise ReportError(f"report folder {target} exists and is not an earlier Veil report "
                          f"(no {MARKER} in it): name an empty or new folder")
    return target


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike):
    """Yield an empty temporary folder beside `target`; on success mark it and rename it
    onto `target`; on failure remove it, leaving `target` as it was."""
    target = check_report_folder(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        (tmp / MARKER).write_text("a report written by veil --report; veil may replace this "
                                  "folder\n")
        os.chmod(tmp, 0o777 & ~_umask())       # mkdtemp made it 0700
        _publish(tmp, check_report_folder(target))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _publish(tmp: Path, target: Path) -> None:
    if not (target.is_dir() and any(target.iterdir())):
        os.replace(tmp, target)                # onto nothing or an empty folder: atomic
        return
    if exchange(tmp, target):                  # an earlier report: swapped in one step,
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old one
        return
    # Where the file system cannot exchange: the earlier report moved aside, then the new
    # one takes its name. Never partial; for the moment between the renames the name is free.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / "report")
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old / "report", target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
