"""The parties of each lowering, by the Program's lowering: the one place that knows both."""
from __future__ import annotations

from veil.backends.yao.lowerings.packed.protocol import PACKED
from veil.backends.yao.lowerings.paper.protocol import PAPER
from veil.backends.yao.lowerings.parties import LoweringParties
from veil.compiler.program import Lowering

_PARTIES = {p.lowering: p for p in (PAPER, PACKED)}


def parties_for(lowering: Lowering) -> LoweringParties:
    return _PARTIES[lowering]
