"""Every public width of one dense layer in the `packed` lowering, derived once.

One packing per layer, at the compiler's PackedLayout slot positions: packed columns of W and
of V = W + R, the cloud's masks -R, the corrections W s - b + m and the values x + r_c
(docs/protocol.md). Both Paillier keys must have at least the program's modulus bits.
"""
from __future__ import annotations

from dataclasses import dataclass

from veil.compiler.model import Layer
from veil.compiler.program import PackedLayout, SecurityParams


@dataclass(frozen=True)
class PackedShapes:
    n_in: int
    n_out: int
    kappa: int
    weight_bits: int      # l_w; R is drawn from [2^l_w, 2^(l_w + kappa)) so V = W + R > 0
    input_bits: int       # in.total: the cloud's activation mask s is in [2^in, 2^(in + kappa))
    acc_bits: int         # the user's r_c is drawn from [2^acc, 2^(acc + kappa))
    slot_bits: int
    slots: int
    correction_bits: int  # every slot of W s - b + m lies in [0, 2^correction_bits)
    first: bool           # layer 1: its input is the user's own patch, unmasked, signed

    @property
    def blocks(self) -> int:
        return -(-self.n_out // self.slots)

    @property
    def mask_floor_bits(self) -> int:
        """The cloud's slot mask m is drawn from [2^f, 2^(f + kappa)), 2^f > |W s - b|."""
        return self.correction_bits - self.kappa - 1

    @property
    def exponent_bound(self) -> int:
        """Exclusive bound on |exponent| of the user's online multi-exponentiation: the
        patch (signed, layer 1) or y'' = t + s (later layers)."""
        return 1 << (self.input_bits if self.first else self.input_bits + self.kappa + 1)

    @classmethod
    def of(cls, layer: Layer, sec: SecurityParams) -> "PackedShapes":
        lay = PackedLayout.of(layer, sec)
        return cls(layer.n_in, layer.n_out, sec.kappa, layer.weight_format.total,
                   layer.in_format.total, layer.acc_bits, lay.slot_bits, lay.slots,
                   lay.correction_bits, layer.index == 1)
