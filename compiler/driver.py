"""Spec text to a verified Program: parse, check, lower, verify. The compiler's own entry;
callers name a spec by built-in name, path or text through veil.models.catalog.compile_model,
the one entry point the CLI, the service and the benchmarks share."""
from __future__ import annotations

from veil.compiler.check import check, load_prelude
from veil.compiler.lower import lower
from veil.compiler.parser import parse_text
from veil.compiler.program import Lowering, Program, SecurityParams
from veil.util.errors import UsageError


def lowering_named(name: str | Lowering) -> Lowering:
    if isinstance(name, Lowering):
        return name
    try:
        return Lowering(name)
    except ValueError:
        known = ", ".join(lw.value for lw in Lowering)
        raise UsageError(f"unknown lowering {name!r} (known: {known})") from None


def compile_text(text: str, source: str, lowering: str | Lowering = Lowering.PACKED,
                 security: SecurityParams = SecurityParams(),
                 allow_weight_files: bool = True) -> Program:
    """`source` names the text in error messages (a path, or e.g. '<model compact>') and is
    the folder a `weights "FILE"` clause is relative to; text from the network is compiled
    with `allow_weight_files=False` (check.check)."""
    checked = check(parse_text(text, source), load_prelude(), allow_weight_files)
    program = lower(checked, lowering_named(lowering), security)
    program.verify()
    return program
