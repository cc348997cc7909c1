"""A spec compiled with a weights file of one's choosing: `SPEC=WEIGHTS.npz` on the command
lines of bench/quality.py and bench/float_quality.py. WEIGHTS is a weights .npz (`veil train
-o`) or a `veil train --checkpoint` file, whose current (mid-schedule) weights are used.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np

from veil.models.catalog import compile_model, resolve_spec


def program_for(arg: str):
    """`SPEC` or `SPEC=WEIGHTS.npz` -> (label, compiled program)."""
    spec, _, weights = arg.partition("=")
    if not weights:
        return spec, compile_model(spec)
    with tempfile.TemporaryDirectory(prefix="veil-ckpt-") as scratch:
        path = _weights_file(Path(weights), Path(scratch))
        text = resolve_spec(spec).read_text()
        text, n = re.subn(r'weights\s+("[^"]*"|random\s+seed\s+\d+)',
                          f'weights "{path.resolve()}"', text)
        if n != 1:
            raise SystemExit(f"{spec}: no single weights clause to replace")
        # compiling reads the weights, so a checkpoint's temporary copy can go afterwards
        return Path(weights).stem, compile_model(text, source=spec)


def _weights_file(path: Path, scratch: Path) -> Path:
    """A weights .npz as it is, or a checkpoint's weights written to a .npz in `scratch`."""
    with np.load(path) as z:
        if "p0" not in z.files:
            return path
        params = [z[f"p{i}"] for i in range(sum(f[0] == "p" for f in z.files))]
    weights = {f"{'wb'[i % 2]}{i // 2 + 1}": p for i, p in enumerate(params)}
    out = scratch / f"{path.stem}.npz"
    np.savez(out, **weights)
    return out
