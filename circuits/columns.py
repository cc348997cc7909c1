"""Sum a weighted multiset of bits (a partial-product matrix) with full adders.

Columns are reduced from the LSB up: while a column holds three or more bits,
a full adder (one AND) turns three into a sum kept in the column and a carry
for the next one, always taking the shallowest bits first to keep AND-depth
low; the last pair takes a half adder.  Constant bits are gathered into one
integer so that each column holds at most a single known 1, which is absorbed
for free where possible (u + 1 = ~u + 2u).  The top column needs no carries,
so it is a plain XOR.  Every adder removes a bit or moves a carry, so the AND
count is close to (number of bits - width).
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence

from .adders import full_add
from .builder import Bits, Builder
from .logic import parity


def sum_columns(b: Builder, columns: Mapping[int, Sequence[int]], width: int,
                constant: int = 0) -> Bits:
    """(sum over p of 2**p * sum(columns[p]) + constant) mod 2**width, as width bits."""
    seq = itertools.count()  # tie-breaker so heaps never compare wires
    # heaps[p]: (AND depth, tie-breaker, wire) of the unknown bits of weight 2**p
    heaps: list[list[tuple[int, int, int]]] = [[] for _ in range(width)]
    for p, wires in columns.items():
        for w in wires:
            if p >= width:
                continue
            k = b.known(w)
            if k is None:
                heaps[p].append((0, next(seq), w))
            else:
                constant += k << p
    constant %= 1 << width
    out: Bits = []
    for p, h in enumerate(heaps):
        k = (constant >> p) & 1
        if p == width - 1:  # no carry out of the top column: a plain XOR
            out.append(parity(b, [w for _, _, w in h], k))
            break
        heapq.heapify(h)
        up = heaps[p + 1]
        while len(h) >= 3:
            (d1, _, x), (d2, _, y), (d3, _, z) = (heapq.heappop(h) for _ in range(3))
            s, c = full_add(b, x, y, z)
            d = max(d1, d2, d3)
            heapq.heappush(h, (d, next(seq), s))
            heapq.heappush(up, (d + 1, next(seq), c))
        if len(h) == 2:  # u + v (+ 1): one adder
            (d1, _, x), (d2, _, y) = h
            s, c = full_add(b, x, y, b.const(k))
            out.append(s)
            heapq.heappush(up, (max(d1, d2) + 1, next(seq), c))
        elif len(h) == 1:
            d, _, u = h[0]
            if k:  # u + 1 = ~u + 2u: a NOT and a carry that is u itself
                out.append(b.not_(u))
                heapq.heappush(up, (d, next(seq), u))
            else:
                out.append(u)
        else:
            out.append(b.const(k))
    return out
