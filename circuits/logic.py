"""Small bit-level helpers shared by the circuit library.

They consult Builder.known() so that operands that are constant wires (from
const_bits, zero_extend, shift_left) cost no gates; anything subtler is left
to the optimisation passes.
"""
from __future__ import annotations

from collections.abc import Sequence

from .builder import Builder


def not_bit(b: Builder, w: int) -> int:
    """NOT w; a constant in gives a constant out."""
    k = b.known(w)
    return b.const(1 - k) if k is not None else b.not_(w)


def parity(b: Builder, wires: Sequence[int], flip: int = 0) -> int:
    """XOR of `wires`, complemented if `flip`; no wires gives the constant `flip`."""
    if not wires:
        return b.const(flip)
    acc = wires[0]
    for w in wires[1:]:
        acc = b.xor(acc, w)
    return b.not_(acc) if flip else acc


def and_all(b: Builder, wires: Sequence[int]) -> int:
    """AND of all wires as a balanced tree: len-1 ANDs, depth ceil(log2 len)."""
    layer = list(wires)
    if not layer:
        return b.const(1)
    while len(layer) > 1:
        nxt = [b.and_(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
        layer = nxt + layer[len(layer) - len(layer) % 2:]
    return layer[0]


def or_all(b: Builder, wires: Sequence[int]) -> int:
    """OR of all wires via De Morgan: len-1 ANDs."""
    if not wires:
        return b.const(0)
    return not_bit(b, and_all(b, [not_bit(b, w) for w in wires]))
