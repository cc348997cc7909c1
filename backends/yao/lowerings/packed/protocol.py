"""The `packed` lowering end to end: owner (model.py), user (user.py) and cloud (cloud.py),
the parties of lowerings/parties.py (docs/protocol.md, "packed").

Owner: per layer, packed columns Enc_u(pack W[:, j]) and Enc_u(pack b) to the cloud.
Provisioning (once per model and user; the cloud has its own key pair c):
  C -> U  pk_c;  per layer: Enc_u(pack(W + R)) rerandomised, Enc_c(pack(-R))
Session: OT base setup (U is the OT-extension receiver: the cloud garbles).
Offline, per batch of P patches (no image needed; every message is one frame):
  U -> C  P
  C -> U  per layer: E = Enc_u(pack(W s - b + m))   (packed_linear.cloud_corrections)
  per activation: garbling prepared (OT for U's r_c, tables, labels of C's r_u = s)
Online, per batch:
  per layer:  U -> C  D = Enc_c(pack(W y + b + r_c - m))   (y + s, or the patch for layer 1)
    hidden:   C -> U  labels of x + r_c; U evaluates y' = t(x) + s: the next layer's input
    last:     C -> U  q + r_c in the clear; U removes r_c
"""

from __future__ import annotations

from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.model import PackedModel, PackedOwner
from veil.backends.yao.lowerings.packed.user import PackedUser
from veil.backends.yao.lowerings.parties import LoweringParties
from veil.compiler.program import Lowering

PACKED = LoweringParties(Lowering.PACKED, PackedModel, PackedOwner, PackedUser, PackedCloud)
