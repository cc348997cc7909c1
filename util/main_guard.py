"""Refuse, before any work, to start worker processes from a script's unguarded top level.

Veil's worker processes are spawned (backends/executor.py says why not forked), and a
spawned process first imports the parent's main script. Code at the script's top level that
is not under `if __name__ == "__main__":` runs again in every worker, where starting workers
of its own fails: the parent then sees only "a process in the pool terminated abruptly",
after its keys were made and its work begun. Whether the call comes from such code can be
read from the call stack and the script's syntax tree, so Veil says so at once instead.
"""
from __future__ import annotations

import ast
import sys
from types import FrameType

from veil.util.errors import UsageError


def _guard_bodies(tree: ast.Module) -> list[ast.If]:
    """Every `if __name__ == "__main__":` block of a module (either operand order), wherever
    it is: one nested in a top-level `try` or `with` guards as well as a top-level one."""
    def is_guard(test: ast.expr) -> bool:
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.ops[0], ast.Eq)):
            return False
        sides = [test.left, test.comparators[0]]
        names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
        consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
        return len(names) == 1 and len(consts) == 1
    return [node for node in ast.walk(tree) if isinstance(node, ast.If) and is_guard(node.test)]


def _main_script_frame(frame: FrameType | None) -> FrameType | None:
    """The frame running the main script's top-level code, if this call comes from it."""
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
            return frame
        frame = frame.f_back
    return None


def unguarded_call_site(frame: FrameType | None) -> tuple[str, int] | None:
    """(script, line) when `frame`'s call chain starts at top-level code of a main script
    that is outside an `if __name__ == "__main__":` block; None otherwise (a guarded call,
    an interactive session or notebook, `python -c`, a script whose source is unreadable)."""
    top = _main_script_frame(frame)
    path = top.f_globals.get("__file__") if top is not None else None
    if not path:
        return None
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    line = top.f_lineno
    for guard in _guard_bodies(tree):
        if guard.lineno <= line <= (guard.end_lineno or guard.lineno):
            return None
    return path, line


def require_main_guard(what: str) -> None:
    """Raise UsageError if starting `what` (worker processes) would re-run the caller's
    script in each of them."""
    site = unguarded_call_site(sys._getframe(1))
    if site is not None:
        path, line = site
        raise UsageError(
            f"{what} would run {path} again in each worker (line {line} is outside "
            f"`if __name__ == \"__main__\":`): put the script's top-level code under that "
            f"guard, or use workers=1")
