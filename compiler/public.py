"""A spec's public part: everything but its weights, as the owner publishes it.

The cloud and the user need the architecture, formats and activation circuits (all public)
to run the protocol, never the weights (the cloud gets them encrypted, the user as V = W + R).
`public_text` replaces the weights clause of the spec by `weights random seed 0`, and
`structure_digest` fingerprints a compiled Program without its weights, so a party that
compiles the public text checks it gets the owner's structure exactly.
"""
from __future__ import annotations

import hashlib
import json

from veil.compiler import ast
from veil.compiler.check import check, load_prelude, resolve_spec
from veil.compiler.emit import stats
from veil.compiler.errors import SpecError
from veil.compiler.lower import lower
from veil.compiler.parser import parse_text
from veil.compiler.program import Lowering, Program, SecurityParams

PUBLIC_WEIGHTS = "weights random seed 0    # public copy: the real weights are published encrypted"


def public_text(spec: str) -> str:
    """The spec's text with its weights clause (on a line of its own) made public-safe."""
    path = resolve_spec(spec)
    text = path.read_text()
    parsed = parse_text(text, str(path))
    clauses = [e for m in parsed.models for e in m.entries
               if isinstance(e, (ast.WeightsFile, ast.WeightsRandom))]
    lines = text.splitlines()
    for clause in clauses:
        line = lines[clause.pos.line - 1]
        head = line[:clause.pos.column - 1]
        if head.strip():
            raise SpecError.at(clause.pos, "to publish, put the weights clause on a line of its own")
        lines[clause.pos.line - 1] = head + PUBLIC_WEIGHTS
    return "\n".join(lines) + "\n"


def compile_text(text: str, security: SecurityParams, name: str = "<published spec>") -> Program:
    program = lower(check(parse_text(text, name), load_prelude()), Lowering.PACKED, security)
    program.verify()
    return program


def structure_digest(program: Program) -> str:
    """SHA-256 of the program's public structure: shapes, formats, layouts, circuits."""
    s = stats(program)
    s.pop("weights", None)
    s.pop("spec", None)
    return hashlib.sha256(json.dumps(s, sort_keys=True).encode()).hexdigest()

