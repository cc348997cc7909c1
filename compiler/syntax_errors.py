"""Syntax errors in words: lark's UnexpectedInput -> one SpecError "FILE:LINE:COL: expected X
after Y, found Z", naming slots ("expected '->' after input size") rather than grammar rules."""
from __future__ import annotations

from typing import Callable

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import TerminalDef

from veil.compiler.errors import SpecError

# What the n-th token after a keyword is, for "expected X after <that>".
_SLOTS = {
    "model": ("model name",),
    "activation": ("activation name",),
    "patch": ("input size", "'->'", "output size"),
    "stride": ("stride",),
    "normalise": ("variable name", "'->'"),
    "fix": ("'<'", "total bits", "','", "fractional bits"),
    "frac": ("fractional bits",),
    "seed": ("seed",),
    "dense": ("input size", "'->'", "output size", "activation name"),
}
_ENTRY = {"PATCH", "NORMALISE", "INPUT", "ACTIVATION", "WEIGHT", "BIAS", "COEFFICIENT",
          "WEIGHTS", "DENSE", "PREDICT"}
_OPERATOR = {"PLUS", "MINUS", "STAR", "SLASH", "CARET"}
_NAMED = {"NUMBER": "a number", "NAME": "a name", "STRING": 'a "quoted" file name',
          "ABS_X": "'|x|'", "$END": "end of file"}


def syntax_error(e: UnexpectedInput, text: str, path: str,
                 terminal: Callable[[str], TerminalDef]) -> SpecError:
    """lark's error as one SpecError at its position; `terminal` names a terminal's pattern."""
    if isinstance(e, UnexpectedToken):
        expected = set(e.accepts or e.expected)
        if e.token.type == "$END":
            found = "end of file"
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
        else:
            found, line, col = f"'{e.token}'", e.line, e.column
    else:
        assert isinstance(e, UnexpectedCharacters)
        expected = set(e.allowed or ())
        found, line, col = f"'{e.char}'", e.line, e.column
    stack = e.state.value_stack if e.state is not None else []
    want = _describe_expected(expected, terminal)
    after = _after(stack)
    msg = (f"expected {want} after {after}, found {found}" if after
           else f"unexpected {found}; expected {want}")
    return SpecError(path, line, col, msg)


def _after(stack: list) -> str | None:
    """Name the last thing parsed, if it is a token: a slot name or the token itself."""
    if not stack or not isinstance(stack[-1], Token):
        return None
    last = len(stack) - 1
    for i in range(last, -1, -1):
        tok = stack[i]
        if not isinstance(tok, Token):
            break
        slots = _SLOTS.get(str(tok))
        if slots is not None and tok.type != "NAME":
            if 1 <= last - i <= len(slots):
                return slots[last - i - 1]
            break
    return f"'{stack[-1]}'"


def _describe_expected(names: set[str], terminals: Callable[[str], TerminalDef]) -> str:
    parts: list[str] = []
    if _ENTRY <= names:
        parts.append("a model entry")
        names = names - _ENTRY
    if {"PLUS", "STAR", "SLASH"} <= names:
        parts.append("an operator")
        names = names - _OPERATOR
    rest = []
    for n in names:
        if n in _NAMED:
            rest.append(_NAMED[n])
        else:
            try:
                rest.append(f"'{terminals(n).pattern.value}'")
            except KeyError:
                rest.append(n)
    parts += sorted(rest) or ["something else"]
    if len(parts) > 4:
        parts = parts[:4] + ["..."]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
