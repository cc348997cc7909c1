"""The `paper` lowering end to end: owner (model.py), user (user.py) and cloud (cloud.py), the
parties of lowerings/parties.py (PROTOCOL.md, lowering 1).

Owner:  encrypts every weight and (accumulator-aligned) bias under the user's key.
Per batch of P patches (every message below is one frame; counts are checked on receipt):
  U -> C  P (the batch request: the offline phase has nothing else to do)
  U -> C  Enc(p) for the quantised input patches
  per layer:
    C <-> U  Erkin products (paper_linear.py); C sums rows and adds Enc(b)
    hidden:  C -> U  Enc(x + r_c), r_c uniform in [2^acc, 2^(acc+kappa)), rerandomised
             U       decrypts x' = x + r_c; garbled activation (garbled_activation.py)
             U -> C  Enc(r_u);  C: Enc(t) = Enc(y') * Enc(r_u)^-1 with y' = t + r_u
    last:    C -> U  Enc(q), rerandomised; U decrypts the output
"""
from __future__ import annotations

from veil.backends.yao.lowerings.paper.cloud import PaperCloud
from veil.backends.yao.lowerings.paper.model import PaperModel, PaperOwner
from veil.backends.yao.lowerings.paper.user import PaperUser
from veil.backends.yao.lowerings.parties import LoweringParties
from veil.compiler.program import Lowering

PAPER = LoweringParties(Lowering.PAPER, PaperModel, PaperOwner, PaperUser, PaperCloud)
