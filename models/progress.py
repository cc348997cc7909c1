"""Progress for long runs: patches done, rate and time left (tqdm on stderr)."""
from __future__ import annotations

import contextlib
import sys

from tqdm import tqdm


@contextlib.contextmanager
def patch_progress(total: int, enabled: bool = True, desc: str = "denoising"):
    bar = tqdm(total=total, unit="patch", desc=desc, file=sys.stderr, disable=not enabled,
               smoothing=0.1, dynamic_ncols=True)
    try:
        yield bar.update
    finally:
        bar.close()
