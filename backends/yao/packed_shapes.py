"""Every public width of one dense layer in the `packed` lowering, derived once.

Two packings per layer (PROTOCOL.md, lowering 2):
  user key  s  = acc + kappa + 2 (PackedLayout): packed columns, V = W + R, x + r_c, q
  cloud key s' = l_w + kappa + l_r + ceil(log2 n_in) + kappa + 2: Enc_c(R) and R r + m,
            where l_r = in.total + kappa is the size of the user's input mask r.
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
    weight_bits: int     # l_w; R is drawn from [2^l_w, 2^(l_w + kappa)) so V = W + R > 0
    input_bits: int      # in.total; the user's mask r is drawn from [2^in, 2^(in + kappa))
    acc_bits: int        # r_c is drawn from [2^acc, 2^(acc + kappa))
    slot_bits: int
    slots: int
    wide_bits: int
    wide_slots: int

    @property
    def blocks(self) -> int:
        return -(-self.n_out // self.slots)

    @property
    def wide_blocks(self) -> int:
        return -(-self.n_out // self.wide_slots)

    @property
    def rr_bits(self) -> int:
        """Bound on the bits of (R r)_i, which the cloud's slot masks m must cover."""
        return (self.weight_bits + self.kappa + self.input_bits + self.kappa
                + (self.n_in - 1).bit_length())

    @classmethod
    def of(cls, layer: Layer, sec: SecurityParams, cloud_modulus_bits: int | None = None
           ) -> "PackedShapes":
        lay = PackedLayout.of(layer, sec)
        w, a, k = layer.weight_format.total, layer.in_format.total, sec.kappa
        wide = w + k + (a + k) + (layer.n_in - 1).bit_length() + k + 2
        wide_slots = ((cloud_modulus_bits or sec.modulus_bits) - 2) // wide
        if lay.slots < 1 or wide_slots < 1:
            raise ValueError(f"layer {layer.index}: a slot does not fit the Paillier modulus")
        return cls(layer.n_in, layer.n_out, k, w, a, layer.acc_bits, lay.slot_bits, lay.slots,
                   wide, wide_slots)
