"""Preallocated scratch memory for blocks of instances, and the bound step programs.

Labels are handled as (..., 2) little-endian uint64 words (one XOR per 8 bytes). Every step
writes into views of these buffers, so the per-step loop allocates nothing; sizes come from the
plan's widest steps. A step is *bound* once per block size: all its views are made up front
and it becomes a closure run(tab) of bare numpy calls (AND step overhead 26 -> 13 us).
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from veil.backends.yao.gc import plan as plans
from veil.backends.yao.gc.hash import TweakHash
from veil.backends.yao.gc.plan import Plan, PlanStep, Selector
from veil.backends.yao.gc.tweaks import fill_base
from veil.backends.yao.gc.labels import WORD


@dataclass(frozen=True)
class Role:
    """One party of one scheme, as far as its memory goes, per AND gate-instance: labels it
    hashes (half-gates: garbler 4, evaluator 2; three-halves: 6 and 3), tweak blocks, and its
    named temporaries in uint64 words. The name keys the per-thread cache. scale: this party
    works on blocks of scale x garble.BLOCK instances and AND steps cut at scale x
    plan.AND_BUDGET gate-instances (three-halves makes ~2x the numpy calls of half-gates per
    AND, so it wants 2x larger calls: bench_garble.py --sweep)."""
    name: str
    hashed: int
    tweaks: int
    temps: tuple[tuple[str, int], ...]
    scale: int = 1

    @property
    def budget(self) -> int:
        return self.scale * plans.AND_BUDGET


class Scratch:
    """Buffers for blocks of up to `block` instances, sized for `role`. Reused across calls
    (see `scratch_for`): first-touching ~20 MB of fresh pages costs as much as garbling a
    block on a VM."""

    def __init__(self, plan: Plan, block: int, role: Role) -> None:
        cap = plan.and_capacity(block, role.budget)
        gl = max(plan.max_and, plan.max_linear)
        self.plan, self.block, self.cap, self.budget = plan, block, cap, role.budget
        self._w = np.empty(plan.n_slots * block * 2, WORD)
        self._bufs = {
            "x": np.empty(role.hashed * cap * 2, WORD),  # labels to hash
            "t": np.empty(role.tweaks * cap * 2, WORD),  # tweaks
            "a": np.empty(gl * block * 2, WORD),         # gathered operands
            "b": np.empty(gl * block * 2, WORD),
            **{name: np.empty(words * cap, WORD) for name, words in role.temps},
        }
        self.hash = TweakHash(role.hashed * cap)
        self.r = np.empty((block, 2), WORD)    # R tiled (garbler)
        # three-halves garbler's constants, broadcast over (g, n) planes: [R_L, R_R], then the
        # R terms of [G0, G1, G2] per unit of u and of v: [R_L^R_R, R_L, R_R], [R_R, R_L^R_R, R_L]
        self.r_terms = np.empty((8, 1, 1), WORD)
        self.ctr = np.empty(block, WORD)       # the block's tweak counters
        self._programs: dict[int, tuple[tuple, list[Bound]]] = {}

    @property
    def nbytes(self) -> int:
        """Memory held (the fixed part of a call's footprint)."""
        return (self._w.nbytes + sum(b.nbytes for b in self._bufs.values()) + self.r.nbytes
                + self.r_terms.nbytes + self.ctr.nbytes + self.hash.nbytes)

    def program(self, n: int, bind: Callable[[PlanStep, Scratch, int], Bound]) -> list[Bound]:
        """The plan's steps for blocks of n instances, bound by `bind` (cached for the few
        most recent n: the full block size and the odd last blocks)."""
        steps = self.plan.steps_for(n, self.budget)
        cached = self._programs.pop(n, None)
        if cached is None or cached[0] is not steps:
            cached = (steps, [bind(st, self, n) for st in steps])
        self._programs[n] = cached  # most recent last
        while len(self._programs) > 4:
            del self._programs[next(iter(self._programs))]
        return cached[1]

    def reset(self, tweak_base: int, R: np.ndarray | None) -> Scratch:
        """Set this call's tweak_base and (garbler) R, tiled to (block, 2) rows so XORs with
        it broadcast over whole rows rather than 2-word inner loops."""
        fill_base(self._bufs["t"], tweak_base)
        self.r[:] = 0 if R is None else R
        rl, rr = (int(v) for v in self.r[0])
        self.r_terms[:, 0, 0] = (rl, rr, rl ^ rr, rl, rr, rr, rl ^ rr, rl)
        return self

    def wires(self, n: int) -> np.ndarray:
        """The (slots, n, 2) label table for a block of n <= block instances."""
        return self._w[: self._w.size // self.block * n].reshape(-1, n, 2)

    def view(self, name: str, *shape: int) -> np.ndarray:
        buf = self._bufs[name]
        return buf[: math.prod(shape)].reshape(shape)

    def bytes(self, name: str, *shape: int) -> np.ndarray:
        """A uint8 view of a temporary (bits kept a byte each: 1/8 of the memory traffic)."""
        return self._bufs[name].view(np.uint8)[: math.prod(shape)].reshape(shape)


Bound = Callable[[object], None]  # run(tab): one step over one block (tab: the scheme's tables)


def bind_gather(sel: Selector, s: Scratch, n: int, name: str) -> Callable[[], np.ndarray]:
    """A callable returning W[sel]: the view itself for slices, else np.take into scratch
    (mode='clip' avoids the hidden output buffering of mode='raise'; the plan checked every
    index)."""
    W = s.wires(n)
    if isinstance(sel, slice):
        view = W[sel]
        return lambda: view
    out = s.view(name, len(sel), n, 2)
    take = W.take
    return lambda: take(sel, axis=0, out=out, mode="clip")


def bind_xor(st: PlanStep, s: Scratch, n: int) -> Bound:
    """XOR gates: the same for both parties (free-XOR)."""
    a, b, out = bind_gather(st.a, s, n, "a"), bind_gather(st.b, s, n, "b"), s.wires(n)[st.out]
    xor = np.bitwise_xor
    return lambda tab: xor(a(), b(), out=out)


_local = threading.local()


def scratch_for(plan: Plan, block: int, role: Role, tweak_base: int,
                R: np.ndarray | None = None) -> Scratch:
    """This thread's scratch for (plan, role), reallocated only when too small. Per thread,
    so concurrent calls never share buffers."""
    cache = _local.__dict__.setdefault("by_role", {})
    s = cache.get(role.name)
    if (s is None or s.plan is not plan or s.block < block or s.budget != role.budget
            or s.cap < plan.and_capacity(block, role.budget)):
        s = cache[role.name] = None  # release the old buffers before allocating
        s = cache[role.name] = Scratch(plan, block, role)
    return s.reset(tweak_base, R)
