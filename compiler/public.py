"""A spec's public part: everything but its weights, as the owner publishes it.

The cloud and the user need the architecture, formats and activation circuits (all public)
to run the protocol, never the weights (the cloud gets them encrypted, the user as V = W + R).
`public_text` replaces the weights clause of the spec by `weights random seed 0`; each party
compiles that text and checks the structure digest (digest.py) against the owner's.
"""
from __future__ import annotations

from pathlib import Path

from veil.compiler import ast
from veil.compiler.errors import SpecError
from veil.compiler.parser import parse_text

PUBLIC_WEIGHTS = "weights random seed 0    # public copy: the real weights are published encrypted"


def public_text(path: Path) -> str:
    """The spec's text with its weights clause (on a line of its own) made public-safe."""
    text = Path(path).read_text()
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
