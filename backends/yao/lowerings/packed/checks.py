"""What the `packed` user checks in what the cloud sends, before it sends anything that
depends on its image (issue 11, finding 1; docs/protocol.md, "What a malicious cloud can
still do").

Provisioning: the cloud's key has exactly the program's size and a plausible modulus
(paillier/validate.py); the masked columns and Enc_c(-R) each carry fresh randomness;
V = W + R lies in the range R's masks give it. Each batch: the corrections E carry fresh
randomness, and A = Dec(E) lies in the range its slot masks give it
(linear.correction_bounds, checked in linear.user_corrections). Without these, whoever
plays the cloud sends its own key, V = 0 and E = 1 (the integer: no key needed), and reads
every pixel of the user's patches from D. With them, such a cloud must at least know the
user's public key and make a proper key of its own; what it can then still do is written
down in docs/protocol.md.
"""
from __future__ import annotations

from collections.abc import Sequence

from veil.backends.yao import paillier as P
from veil.backends.yao.paillier.validate import check_fresh, check_modulus
from veil.compiler.packed_layout import PackedLayout
from veil.util.errors import ProtocolError


def check_cloud_key(pk_c: P.PublicKey, modulus_bits: int) -> None:
    check_modulus(pk_c, modulus_bits, "the cloud's key")


def check_provisioning_cts(pk: P.PublicKey, cts: Sequence[int], what: str, layer: int) -> None:
    check_fresh(pk, cts, f"layer {layer}'s {what}")


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
