"""Gate vocabulary of the boolean-circuit IR."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Op(enum.Enum):
    INPUT = "INPUT"
    CONST0 = "CONST0"
    CONST1 = "CONST1"
    AND = "AND"
    XOR = "XOR"
    NOT = "NOT"


# Number of operands each op takes.
ARITY: dict[Op, int] = {
    Op.INPUT: 0,
    Op.CONST0: 0,
    Op.CONST1: 0,
    Op.AND: 2,
    Op.XOR: 2,
    Op.NOT: 1,
}

# Ops whose operand order does not matter.
COMMUTATIVE = frozenset({Op.AND, Op.XOR})

CONST_VALUE: dict[Op, int] = {Op.CONST0: 0, Op.CONST1: 1}


@dataclass(frozen=True)
class Gate:
    """One node of the circuit: an op and the wire ids of its operands."""

    op: Op
    args: tuple[int, ...] = ()
