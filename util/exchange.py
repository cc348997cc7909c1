"""Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE), so that a folder can be
replaced without a moment in which its name is free. Elsewhere, or on a file system that
cannot exchange, `exchange` says so and the caller falls back to two renames."""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import sys

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fn = libc.renameat2                      # glibc 2.28 and later
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_FN = _renameat2()


def exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Atomically swap the two existing paths `a` and `b`: True if done, False if this
    platform or file system cannot (nothing changed). Other failures raise OSError."""
    if _FN is None:
        return False
    if _FN(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))
