"""The built-in models and the one compile entry point.

`compile_model(spec, lowering, key_bits, kappa)` takes a built-in model's name (a `.veil`
file shipped in this folder), a path to a spec, or spec text, and returns the verified
Program. The command line, the owner and the benchmarks compile through it; a spec that
arrived over the network goes through `compile_published`, which opens no file.
"""
from __future__ import annotations

from pathlib import Path

from veil.compiler.check import check, load_prelude
from veil.compiler.driver import compile_text
from veil.compiler.model import CheckedModel
from veil.compiler.parser import parse_text
from veil.compiler.program import Lowering, Program, SecurityParams
from veil.util.errors import UsageError

MODELS_DIR = Path(__file__).parent


def builtin_names() -> list[str]:
    return sorted(p.stem for p in MODELS_DIR.glob("*.veil"))


def is_spec_text(spec: str | Path) -> bool:
    return isinstance(spec, str) and ("\n" in spec or "{" in spec)


def resolve_spec(name_or_path: str | Path) -> Path:
    """An existing file, else a built-in model models/<name>.veil."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    builtin = MODELS_DIR / f"{name_or_path}.veil"
    if builtin.is_file():
        return builtin
    raise UsageError(f"no spec file '{name_or_path}' and no built-in model of that name "
                     f"(built-in: {', '.join(builtin_names()) or 'none'})")


def compile_model(spec: str | Path, lowering: str | Lowering = "packed", key_bits: int = 2048,
                  kappa: int = 40, source: str = "<spec text>") -> Program:
    """A built-in name, a spec path or spec text (`source` names the text) -> Program."""
    security = SecurityParams.for_key_bits(key_bits, kappa)
    if is_spec_text(spec):
        return compile_text(spec, source, lowering, security)
    path = resolve_spec(spec)
    return compile_text(path.read_text(), str(path), lowering, security)


def compile_published(text: str, key_bits: int, kappa: int, source: str,
                      lowering: str | Lowering = "packed") -> Program:
    """A spec that arrived over the network: always text (never a name or a path, whatever
    it looks like), and a `weights "FILE"` clause is refused, never opened."""
    if not isinstance(text, str):
        raise UsageError("a published spec must be text")
    return compile_text(text, source, lowering, SecurityParams.for_key_bits(key_bits, kappa),
                        allow_weight_files=False)


def load_model(name_or_path: str | Path) -> CheckedModel:
    """The checked model (quantised weights, formats) of a built-in name or a spec path."""
    path = resolve_spec(name_or_path)
    return check(parse_text(path.read_text(), str(path)), load_prelude())
