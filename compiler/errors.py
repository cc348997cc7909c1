"""The one error type a spec can raise: a message at a source position."""
from __future__ import annotations

from dataclasses import dataclass

from veil.util.errors import SpecError as BaseSpecError


@dataclass(frozen=True)
class SourcePos:
    path: str
    line: int     # 1-based
    column: int   # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class SpecError(BaseSpecError):
    """Anything wrong in a spec (syntax, semantics, weights); str() is 'FILE:LINE:COL: message'."""

    def __init__(self, path: str, line: int, column: int, message: str):
        self.path, self.line, self.column, self.message = path, line, column, message
        super().__init__(f"{path}:{line}:{column}: {message}")

    @classmethod
    def at(cls, pos: SourcePos, message: str) -> SpecError:
        return cls(pos.path, pos.line, pos.column, message)

    @property
    def pos(self) -> SourcePos:
        return SourcePos(self.path, self.line, self.column)
