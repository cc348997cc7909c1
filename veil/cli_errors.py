"""How every `veil` command fails: an expected failure (a VeilError, or a file the user named
that cannot be opened) is one line on stderr and exit status 1; anything else is a bug in
Veil, reported as one line naming a file that holds the traceback, with exit status 70
(EX_SOFTWARE), so that scripts can tell bad input from a crash. A full disk or a read-only
file system is the machine's state, not a bug: one line, exit status 1. A ValueError is a bug too:
code that rejects bad input raises the VeilError subclass for its kind (veil.util.errors)."""
from __future__ import annotations

import errno
import functools
import os
import sys
import tempfile
import traceback
from pathlib import Path

import click

from veil.compiler.errors import SpecError
from veil.util.errors import UsageError, VeilError

EXIT_ERROR = 1            # bad input, a refusal, a failing peer
EXIT_INTERNAL = 70        # a bug (sysexits.h EX_SOFTWARE)
_USER_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                   FileExistsError)
# The machine, not Veil: a full disk or quota, a read-only file system. Outputs are written
# atomically (veil.util.atomic), so nothing partial is left behind; the user frees space and
# reruns.
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def _is_user_os_error(exc: BaseException) -> bool:
    return isinstance(exc, _USER_OS_ERRORS) or (
        isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS)


class UserError(UsageError):
    """A one-line message for the user about the command's arguments."""


def _report_internal(exc: BaseException) -> Path:
    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "veil"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    fd, name = tempfile.mkstemp(prefix="crash-", suffix=".txt", dir=folder)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"veil {' '.join(sys.argv[1:])}\n\n")
        fh.write("".join(traceback.format_exception(exc)))
    return Path(name)


def one_line_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SpecError as exc:                      # FILE:LINE:COL: message
            click.echo(str(exc), err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if isinstance(exc, VeilError) or _is_user_os_error(exc):
                click.echo(f"error: {exc}", err=True)
                sys.exit(EXIT_ERROR)
            path = _report_internal(exc)
            click.echo(f"internal error (a bug in Veil): {type(exc).__name__}: {exc}; "
                       f"traceback in {path}", err=True)
            sys.exit(EXIT_INTERNAL)
    return wrapper
