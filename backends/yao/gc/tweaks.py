"""Tweak layout: one 128-bit tweak per half-gate, unique per (gate, instance, garbling).

    i = tweak_base * 2**64  +  2 * (instance * and_count + gate_index)  +  half

as the 16 little-endian bytes of that integer, i.e. uint64 word 1 = tweak_base (64 bits, chosen
by the caller, distinct per garbling session/circuit) and word 0 = the counter. `instance` is
the global instance number (first_instance + position in the chunk), so chunks of one session
never collide; `half` is 0 for the generator half-gate (hashes of the a-labels) and 1 for the
evaluator half-gate (hashes of the b-labels). The range check keeps the counter below 2**64.
"""
from __future__ import annotations

import numpy as np

from veil.backends.yao.gc.labels import WORD

_U64 = 1 << 64


def check_range(tweak_base: int, first_instance: int, n_instances: int, and_count: int) -> None:
    if not 0 <= tweak_base < _U64:
        raise ValueError("tweak_base must be a 64-bit unsigned integer")
    if first_instance < 0 or n_instances < 1:
        raise ValueError("need first_instance >= 0 and n_instances >= 1")
    if 2 * (first_instance + n_instances) * and_count > _U64:
        raise ValueError("instance numbers overflow the 64-bit tweak counter")


def instance_counters(first_instance: int, n: int, and_count: int) -> np.ndarray:
    """(n,) word-0 bases 2 * instance * and_count of instances first .. first + n - 1."""
    return (np.arange(n, dtype=WORD) + np.uint64(first_instance)) * np.uint64(2 * and_count)


def gate_offsets(gate_index: np.ndarray) -> np.ndarray:
    """(2g,) word-0 offsets: 2 * gate + 0 for the g generator halves, then 2 * gate + 1 for
    the g evaluator halves. An AND step's tweaks are word 0 = counters[k] + offsets[r] (no
    carry into word 1, by check_range) and word 1 = tweak_base (fill_base)."""
    g = np.asarray(gate_index, dtype=WORD)
    return np.concatenate([2 * g, 2 * g + 1])


def fill_base(tweaks: np.ndarray, tweak_base: int) -> None:
    """Set word 1 of a flat tweak buffer (pairs of words) once; steps only write word 0."""
    tweaks.reshape(-1, 2)[:, 1] = tweak_base


def tweak(tweak_base: int, instance: int, and_count: int, gate: int, half: int) -> int:
    """The tweak as a Python integer (documentation and tests)."""
    return (tweak_base << 64) + 2 * (instance * and_count + gate) + half
