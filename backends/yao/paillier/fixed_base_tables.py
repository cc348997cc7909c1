"""Multi-exponentiation over bases fixed for many exponent vectors: subset-product tables.

The packed lowering computes prod_j B_j^(e_j) for the same bases B (one layer's packed
columns) and a fresh exponent vector per patch. Splitting the bases into groups of g and
tabulating, once, the product of every subset of each group (2^g entries) turns one
multi-exponentiation into a square-and-multiply over the exponents' bits in which each bit
position costs one table multiplication per group:
    bits * (n / g) multiplications + bits squarings,
against about bits/c * (n + 2^c) for Pippenger (paillier_multiexp.py). For compact's
256-input layers and 51-bit exponents, g = 10 gives 1,377 multiplications against 2,771.
The tables cost 2^g multiplications per group once, and n/g * 2^g residues of memory, so g is
chosen under a memory budget, and Pippenger is kept wherever it is cheaper.

Exponents may be negative down to -offset: e + offset is used, and the constant
(prod_j B_j)^(-offset) is folded in (computed once). Non-negative exponents use offset 0.
"""
from __future__ import annotations

from collections.abc import Sequence

import gmpy2
import numpy as np
from gmpy2 import mpz

from veil.backends.yao.paillier.multiexp import _cost as pippenger_cost
from veil.backends.yao.paillier.multiexp import multi_exp_mod, window_bits

TABLE_BUDGET_BYTES = 16 << 20          # per block of bases: ~0.5 GB for compact, both parties
MAX_GROUP = 12


def table_cost(count: int, exp_bits: int, group: int) -> int:
    return exp_bits * -(-count // group) + exp_bits


def choose_group(count: int, exp_bits: int, residue_bytes: int) -> int | None:
    """The group size g for tables within the budget, or None when Pippenger is cheaper."""
    best = None
    for g in range(2, MAX_GROUP + 1):
        if -(-count // g) * (1 << g) * residue_bytes > TABLE_BUDGET_BYTES:
            break
        best = g
    if best is None or exp_bits > 63:
        return None
    pip = pippenger_cost(count, exp_bits, window_bits(count, exp_bits))
    return best if table_cost(count, exp_bits, best) < pip else None


class SubsetTables:
    """Tables for one block of bases mod `modulus`; `power(digits)` runs one exponent vector
    given as per-bit group indices (see `group_digits`)."""

    def __init__(self, bases: Sequence[int], modulus: int, group: int, offset: int):
        self.modulus, self.group, self.count = mpz(modulus), group, len(bases)
        self.tables: list[list[mpz]] = []
        for i in range(0, len(bases), group):
            chunk = [mpz(b) for b in bases[i:i + group]]
            table = [mpz(1)]
            for b in chunk:                  # doubling: entries with this base's bit set
                table += [t * b % self.modulus for t in table]
            self.tables.append(table)
        total = mpz(1)
        for b in bases:
            total = total * b % self.modulus
        self.correction = gmpy2.powmod(total, -offset, self.modulus) if offset else None

    def power(self, digits: np.ndarray) -> mpz:
        """digits: (bits, groups) subset indices, most significant bit first."""
        n2, acc = self.modulus, None
        for row in digits.tolist():
            if acc is not None:
                acc = acc * acc % n2
            for table, d in zip(self.tables, row):
                if d:
                    acc = table[d] if acc is None else acc * table[d] % n2
        acc = mpz(1) if acc is None else acc
        return acc if self.correction is None else acc * self.correction % n2


def group_digits(exponents: Sequence[int], group: int, bits: int) -> np.ndarray:
    """(bits, groups) array: entry [b, G] has bit i set when exponent G*group + i has bit
    (bits - 1 - b) set. Exponents must be non-negative and below 2^bits (bits <= 63)."""
    e = np.asarray(exponents, dtype=np.uint64)
    pad = -len(e) % group
    e = np.concatenate([e, np.zeros(pad, np.uint64)]).reshape(-1, group)      # (groups, g)
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint64)
    bitplanes = (e[None, :, :] >> shifts[:, None, None]) & np.uint64(1)        # (bits, G, g)
    weights = np.uint64(1) << np.arange(group, dtype=np.uint64)
    return (bitplanes * weights).sum(axis=2).astype(np.int64)


class BlockPowers:
    """All blocks of one layer's bases, for exponents in [low, high): tables where they pay,
    Pippenger elsewhere. `row(exponents)` -> [k] products."""

    def __init__(self, bases: Sequence[Sequence[int]], modulus: int, low: int, high: int):
        if low > 0 or high <= low:
            raise ValueError(f"bad exponent range [{low}, {high})")
        self.bases, self.modulus, self.low, self.high = bases, mpz(modulus), low, high
        n = len(bases[0]) if bases else 0
        self.bits = max(1, (high - low - 1).bit_length())
        self.group = choose_group(n, self.bits, (int(modulus).bit_length() + 7) // 8)
        self.tables = ([SubsetTables(b, modulus, self.group, -low) for b in bases]
                       if self.group else None)

    def row(self, exponents: Sequence[int]) -> list[mpz]:
        if not all(self.low <= int(e) < self.high for e in exponents):
            raise ValueError(f"exponent out of range [{self.low}, {self.high})")
        if self.tables is None:
            return [multi_exp_mod(b, exponents, self.modulus) for b in self.bases]
        digits = group_digits([int(e) - self.low for e in exponents], self.group, self.bits)
        return [t.power(digits) for t in self.tables]
