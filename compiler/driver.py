"""One call from a spec (path or built-in model name) to a verified Program."""
from __future__ import annotations

from veil.compiler.check import load_model, resolve_spec
from veil.compiler.lower import lower
from veil.compiler.program import Lowering, Program, SecurityParams


def compile_spec(spec: str, lowering: str = "packed",
                 security: SecurityParams = SecurityParams()) -> Program:
    program = lower(load_model(resolve_spec(spec)), Lowering(lowering), security)
    program.verify()
    return program
