"""Polynomials in one variable as the spec writes them (activation segments, the
normalisation): an expression tree -> ascending float coefficients, or a SpecError at the
offending position."""
from __future__ import annotations

import numpy as np
from numpy.polynomial import polynomial as P

from veil.compiler import ast
from veil.compiler.errors import SourcePos, SpecError


def first_pos(e: ast.Expr) -> SourcePos:
    while isinstance(e, ast.BinOp):
        e = e.left
    return e.pos


def polynomial(e: ast.Expr, var: str, max_degree: int, what: str) -> np.ndarray:
    """Ascending coefficients of e in `var`; only constants may divide or be exponents."""
    def go(e: ast.Expr) -> np.ndarray:
        if isinstance(e, ast.Num):
            c = np.array([e.value])
        elif isinstance(e, ast.Var):
            if e.name != var:
                raise SpecError.at(e.pos, f"unknown variable '{e.name}' in {what} "
                                          f"(the variable is '{var}')")
            c = np.array([0.0, 1.0])
        elif isinstance(e, ast.Neg):
            c = -go(e.operand)
        else:
            c = binop(e, go(e.left), go(e.right))
        c = P.polytrim(c)
        if len(c) - 1 > max_degree:
            raise SpecError.at(e.pos, f"{what} must have degree at most {max_degree}; "
                                      f"this is of degree {len(c) - 1}")
        return c

    def binop(e: ast.BinOp, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if e.op == "+":
            return P.polyadd(a, b)
        if e.op == "-":
            return P.polysub(a, b)
        if e.op == "*":
            return P.polymul(a, b)
        if len(b) > 1:
            raise SpecError.at(e.pos, f"'{e.op}' needs a constant right operand in {what}")
        if e.op == "/":
            if b[0] == 0:
                raise SpecError.at(e.pos, f"division by zero in {what}")
            return a / b[0]
        n = b[0]
        if not (0 <= n <= max_degree and n == int(n)):      # int(n) needs n finite
            raise SpecError.at(e.pos, f"exponent must be an integer from 0 to {max_degree}, "
                                      f"got {n:g}")
        return P.polypow(a, int(n))

    c = go(e)               # recursion as deep as the expression: the parser bounds it
    if not np.all(np.isfinite(c)):
        raise SpecError.at(first_pos(e), f"{what} has a coefficient that is not finite")
    return c
