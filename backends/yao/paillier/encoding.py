"""The one integer encoding of the protocol (no floating exponents, unlike phe's EncodedNumber).

Plaintexts are residues mod n. A signed integer v is encoded as v mod n and decoded to the
representative in (-n/2, n/2]. Values handed to the signed API must satisfy |v| <= (n-1)//3
(i.e. |v| < n/3): the gap between n/3 and n/2 in both directions is never produced by a value
in range, so a decoded magnitude in that gap reveals an overflow of the homomorphic
computation instead of silently wrapping to a wrong sign.

`residue` (used by plain `encrypt`) accepts any -n < v < n, so packed plaintexts that use the
whole of Z_n (and may be negative before reduction) go through the same path.
"""
from __future__ import annotations

from gmpy2 import mpz

from veil.backends.yao.paillier.keys import PublicKey


def max_signed(pk: PublicKey) -> int:
    """Largest |v| the signed encoding accepts: floor((n-1)/3), so 3|v| < n."""
    return int((pk.n - 1) // 3)


def residue(pk: PublicKey, v: int) -> mpz:
    """v mod n, refusing |v| >= n (almost certainly a caller bug rather than intent)."""
    v = mpz(int(v))
    if not -pk.n < v < pk.n:
        raise OverflowError(f"plaintext of {int(v).bit_length()} bits does not fit mod n")
    return v % pk.n


def encode_signed(pk: PublicKey, v: int) -> mpz:
    v = mpz(int(v))
    if 3 * abs(v) >= pk.n:
        raise OverflowError(f"signed plaintext {int(v)} outside |v| < n/3")
    return v % pk.n


def decode_signed(pk: PublicKey, m: int, check: bool = True) -> int:
    """Residue -> representative in (-n/2, n/2]; with `check`, the overflow gap raises."""
    m = mpz(m) % pk.n
    v = m - pk.n if 2 * m > pk.n else m
    if check and 3 * abs(v) >= pk.n:
        raise OverflowError("decrypted value lies in the overflow gap n/3 <= |v| <= n/2")
    return int(v)
