"""`import veil` stays cheap (no numpy, compiler or backend until a function needs them), and
`veil.__all__` is the documented API."""
import re
import subprocess
import sys
from pathlib import Path

import veil

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "networkx", "lark", "click", "PIL", "tifffile", "gmpy2", "phe", "tqdm",
         "cryptography", "distributed", "dask")


def test_import_veil_loads_nothing_heavy():
    code = ("import sys, veil; print(' '.join(sorted(m for m in sys.modules if m == 'veil' "
            "or m.startswith(('veil.',) + tuple(h + '.' for h in %r) + %r))))" % (HEAVY, HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert "veil.api" in out                       # the walker sees the API modules
    assert not [m for m in out if m.split(".")[0] in HEAVY], out
    assert set(out) <= {"veil", "veil.api", "veil.compiled", "veil.util", "veil.util.errors"}


def test_all_is_the_documented_api():
    assert sorted(veil.__all__) == sorted(set(veil.__all__))
    assert all(hasattr(veil, name) for name in veil.__all__)
    docs = (ROOT / "docs" / "api.md").read_text()
    functions = [n for n in veil.__all__ if callable(getattr(veil, n))
                 and not isinstance(getattr(veil, n), type)]
    assert set(functions) == {"compile", "denoise", "check", "add_noise", "psnr", "load_image",
                              "save_image"}
    for name in functions:
        assert re.search(rf"veil\.{name}\(", docs), f"docs/api.md shows no call of veil.{name}"
    for name in set(veil.__all__) - set(functions):
        assert f"veil.{name}" in docs
    assert issubclass(veil.ImageError, veil.VeilError)
