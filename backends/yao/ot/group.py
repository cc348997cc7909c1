"""The group of the base OTs: the prime-order subgroup of RFC 7919 ffdhe2048.

p is a safe prime (p = 2q + 1, q prime) and g = 2 generates the subgroup of order q, the
quadratic residues. ffdhe2048 is a published, verifiable constant (p is derived from e, see
`ffdhe2048_from_formula`), so no trapdoor can hide in it, and gmpy2 gives fast exponentiation.
Elements travel as fixed-width 256-byte big-endian integers.
"""
from __future__ import annotations

import secrets

import gmpy2
from gmpy2 import mpz

from veil.util.errors import ProtocolError

P = mpz(int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE"
    "249B3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3"
    "B557135E7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182"
    "B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D70"
    "9E02FCE1CDF7E2ECC03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC"
    "2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF", 16))
Q = (P - 1) // 2
G = mpz(2)
ELEMENT_BYTES = 256


def ffdhe2048_from_formula() -> mpz:
    """RFC 7919 A.1: p = 2^2048 - 2^1984 + (floor(2^1918 * e) + 560316) * 2^64 - 1."""
    ctx = gmpy2.get_context().copy()
    ctx.precision = 2300                      # bits of e needed: 1918 + margin
    with gmpy2.context(ctx):
        e_scaled = mpz(gmpy2.floor(gmpy2.mpfr(2) ** 1918 * gmpy2.exp(1)))
    return mpz(2) ** 2048 - mpz(2) ** 1984 + (e_scaled + 560316) * mpz(2) ** 64 - 1


def in_subgroup(x: mpz) -> bool:
    """1 < x < p and x^q == 1, excluding the identity.

    For a safe prime the order-q subgroup is exactly the quadratic residues, so x^q == 1 is
    the Legendre symbol (x|p) == 1: same answer, ~300x cheaper than the exponentiation.
    p - 1 has order 2 and fails; 1 is excluded because it makes the OT keys predictable.
    """
    return 1 < x < P - 1 and gmpy2.legendre(x, P) == 1


def random_exponent() -> mpz:
    """Uniform in [1, q - 1], from the OS CSPRNG."""
    return mpz(1 + secrets.randbelow(int(Q) - 1))


def encode(x: mpz) -> bytes:
    return int(x).to_bytes(ELEMENT_BYTES, "big")


def decode(data: bytes) -> mpz:
    """One received element; ProtocolError unless it is a non-identity subgroup element."""
    if len(data) != ELEMENT_BYTES:
        raise ProtocolError(f"group element must be {ELEMENT_BYTES} bytes, got {len(data)}")
    x = mpz(int.from_bytes(data, "big"))
    if not in_subgroup(x):
        raise ProtocolError("group element is not in the prime-order subgroup (or is 0, 1, p-1, >= p)")
    return x
