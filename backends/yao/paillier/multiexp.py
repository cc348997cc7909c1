"""prod_j b_j^(e_j) mod M by Pippenger's bucket method.

Per c-bit window: each base with a non-zero digit d joins bucket d (one multiplication), then
prod_d bucket_d^d costs about two multiplications per bucket via running products; windows
are joined by c squarings. Total about ceil(bits/c) * (k + 2^c + c) multiplications instead of
k * ~1.2 * bits for k independent `pow`s, and c is chosen from that count.

Negative exponents: the negative part is computed separately and inverted once, so the cost
is one modular inversion on top (rather than one per base).
"""
from __future__ import annotations

from collections.abc import Sequence

import gmpy2
from gmpy2 import mpz

_MAX_WINDOW = 16


def _cost(count: int, exp_bits: int, c: int) -> int:
    """Multiplications of `_pippenger`: per window of w bits, count bucket fills and running
    products together, about 2^w window products, w squarings; the top window may be narrower."""
    full, rest = divmod(exp_bits, c)
    return full * (count + 2 ** c + c) + (count + 2 ** rest + rest if rest else 0)


def window_bits(count: int, exp_bits: int) -> int:
    """Window c minimising the multiplication count of `_pippenger`."""
    return min(range(1, _MAX_WINDOW + 1), key=lambda c: _cost(count, exp_bits, c))


def _pippenger(pairs: list[tuple[mpz, int]], modulus: mpz) -> mpz | None:
    """Non-negative exponents only; None stands for the empty product (saves a multiplication)."""
    pairs = [(b, e) for b, e in pairs if e]
    if not pairs:
        return None
    bits = max(e.bit_length() for _, e in pairs)
    c = window_bits(len(pairs), bits)
    if _cost(len(pairs), bits, c) >= len(pairs) * bits:
        # few bases: gmpy2's C powmod (~1.2 bits steps each, no Python overhead) wins
        return naive_multi_exp_mod([b for b, _ in pairs], [e for _, e in pairs], modulus)
    mask = (1 << c) - 1
    result = None
    for w in reversed(range(-(-bits // c))):
        if result is not None:
            for _ in range(c):
                result = result * result % modulus
        buckets: list[mpz | None] = [None] * (mask + 1)
        shift = w * c
        for b, e in pairs:
            d = (e >> shift) & mask
            if d:
                cur = buckets[d]
                buckets[d] = b if cur is None else cur * b % modulus
        # prod_d bucket_d^d = prod_d running_d, with running_d = prod_{d' >= d} bucket_d'
        running = window = None
        for d in range(mask, 0, -1):
            bucket = buckets[d]
            if bucket is not None:
                running = bucket if running is None else running * bucket % modulus
            if running is not None:
                window = running if window is None else window * running % modulus
        if window is not None:
            result = window if result is None else result * window % modulus
    return result


def multi_exp_mod(bases: Sequence[int], exponents: Sequence[int], modulus: int) -> mpz:
    if len(bases) != len(exponents):
        raise ValueError(f"{len(bases)} bases but {len(exponents)} exponents")
    modulus = mpz(modulus)
    pos, neg = [], []
    for b, e in zip(bases, exponents):
        e = int(e)
        (pos if e >= 0 else neg).append((mpz(b), abs(e)))
    result = _pippenger(pos, modulus)
    negative = _pippenger(neg, modulus)
    if negative is not None:
        inverse = gmpy2.invert(negative, modulus)     # raises ZeroDivisionError for a non-unit
        result = inverse if result is None else result * inverse % modulus
    return mpz(1) % modulus if result is None else result


def naive_multi_exp_mod(bases: Sequence[int], exponents: Sequence[int], modulus: int) -> mpz:
    """Reference: one `pow` per base (gmpy2 powmod handles negative exponents by inversion)."""
    if len(bases) != len(exponents):
        raise ValueError(f"{len(bases)} bases but {len(exponents)} exponents")
    modulus = mpz(modulus)
    acc = mpz(1) % modulus
    for b, e in zip(bases, exponents):
        acc = acc * gmpy2.powmod(b, int(e), modulus) % modulus
    return acc
