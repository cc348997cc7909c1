"""The ranges the `packed` user checks in what the cloud sends, before it sends anything that
depends on its image (issue 11, finding 1; docs/protocol.md, "What a malicious cloud can
still do"). PackedUser also checks, with paillier/validate.py, that the cloud's key has
exactly the program's size and a plausible modulus, and that the masked columns, Enc_c(-R)
and the corrections E carry fresh randomness.

Here: V = W + R lies in the range R's masks give it. The corrections' range, A = Dec(E)
within what the slot masks give it, is linear.correction_bounds, checked in
linear.user_corrections where A is decrypted. Without these checks, whoever plays the cloud
sends its own key, V = 0 and E = 1 (the integer: no key needed), and reads every pixel of the
user's patches from D. With them it must at least know the user's public key and make a
proper key of its own; what it can then still do is written down in docs/protocol.md.
"""
from __future__ import annotations

from collections.abc import Sequence

from veil.compiler.packed_layout import PackedLayout
from veil.util.errors import ProtocolError


def weight_range(sh: PackedLayout) -> tuple[int, int]:
    """[low, high) of every V = W + R: W in [-2^(l_w-1), 2^(l_w-1)), R in [2^l_w,
    2^(l_w+kappa)) (linear.draw_weight_masks)."""
    half = 1 << (sh.weight_bits - 1)
    return half, (1 << (sh.weight_bits + sh.kappa)) + half


def check_weights_V(V: Sequence[Sequence[int]], sh: PackedLayout, layer: int) -> None:
    low, high = weight_range(sh)
    if not all(low <= v < high for row in V for v in row):
        raise ProtocolError(f"layer {layer}: V = W + R outside its range [{low}, {high}): "
                            "not what the cloud's masks make")
