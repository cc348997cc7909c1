"""Paillier key pairs with g = n + 1, generated from gmpy2 primes and the `secrets` CSPRNG.

The private key carries everything decryption and owner-side encryption precompute once:
p^2, q^2, hp, hq (CRT decryption), the CRT coefficients, and n^-1 mod phi(n) (randomness
recovery). Its repr never shows p or q.
"""
from __future__ import annotations

import hashlib
import secrets
import warnings
from dataclasses import dataclass, field

import gmpy2
from gmpy2 import mpz

SECURE_BITS = 2048          # |N| of the protocol; 3072 also fine, below 2048 tests only
MIN_BITS = 128              # below this even a test key cannot hold the packed slots
_MR_ROUNDS = 40             # GMP runs BPSW first; extra Miller-Rabin rounds are cheap insurance


class InsecureKeyWarning(UserWarning):
    """A modulus below 2048 bits: acceptable in tests, never in a deployment."""


def check_key_size(bits: int, error: type[Exception] = ValueError) -> None:
    """`error` (default ValueError: a caller's bug) for a modulus below MIN_BITS; the codec
    passes ProtocolError, for a key that arrived as bytes. Option values are checked before
    they get here (veil.compiler.packed_layout.check_key_bits)."""
    if bits < MIN_BITS:
        raise error(f"Paillier modulus of {bits} bits is below the minimum {MIN_BITS}")
    if bits < SECURE_BITS:
        warnings.warn(f"{bits}-bit Paillier modulus is insecure (use >= {SECURE_BITS}); "
                      "only for tests", InsecureKeyWarning, stacklevel=3)


def _byte_width(n: int) -> int:
    return (int(n).bit_length() + 7) // 8


@dataclass(frozen=True)
class PublicKey:
    n: mpz
    nsquare: mpz = field(init=False, repr=False, compare=False)
    fingerprint: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = mpz(self.n)
        if n < 3 or n % 2 == 0:
            raise ValueError("Paillier modulus must be an odd integer > 2")
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "nsquare", n * n)
        # SHA-256 of n as fixed-width big-endian bytes: names the key in every serialised array
        digest = hashlib.sha256(int(n).to_bytes(_byte_width(n), "big")).digest()
        object.__setattr__(self, "fingerprint", digest[:16])

    @property
    def bits(self) -> int:
        return int(self.n).bit_length()

    @property
    def byte_width(self) -> int:
        """Bytes of one plaintext; a ciphertext takes twice as many."""
        return _byte_width(self.n)


@dataclass(frozen=True)
class PrivateKey:
    public: PublicKey
    p: mpz = field(repr=False)
    q: mpz = field(repr=False)
    psquare: mpz = field(init=False, repr=False, compare=False)
    qsquare: mpz = field(init=False, repr=False, compare=False)
    hp: mpz = field(init=False, repr=False, compare=False)
    hq: mpz = field(init=False, repr=False, compare=False)
    p_inv_q: mpz = field(init=False, repr=False, compare=False)
    psquare_inv_qsquare: mpz = field(init=False, repr=False, compare=False)
    n_inv_phi: mpz = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p, q = sorted((mpz(self.p), mpz(self.q)))
        if p == q or p * q != self.public.n:
            raise ValueError("p and q do not factor the public modulus into two distinct factors")
        phi = (p - 1) * (q - 1)
        if gmpy2.gcd(self.public.n, phi) != 1:
            raise ValueError("gcd(n, phi(n)) != 1: p and q are not a valid Paillier pair")
        set_ = object.__setattr__
        set_(self, "p", p)
        set_(self, "q", q)
        set_(self, "psquare", p * p)
        set_(self, "qsquare", q * q)
        # With g = n + 1, L_p(g^(p-1) mod p^2) = (p-1)q = -q mod p, so hp = (-q)^-1 mod p
        set_(self, "hp", gmpy2.invert(-q % p, p))
        set_(self, "hq", gmpy2.invert(-p % q, q))
        set_(self, "p_inv_q", gmpy2.invert(p, q))
        set_(self, "psquare_inv_qsquare", gmpy2.invert(p * p, q * q))
        set_(self, "n_inv_phi", gmpy2.invert(self.public.n, phi))

    @property
    def phi(self) -> mpz:
        return (self.p - 1) * (self.q - 1)


def _random_prime(bits: int) -> mpz:
    """Uniform random prime with its two top bits set, so a product of two has 2*bits bits."""
    while True:
        candidate = mpz(secrets.randbits(bits)) | (3 << (bits - 2)) | 1
        if gmpy2.is_prime(candidate, _MR_ROUNDS):
            return candidate


def generate_keypair(bits: int = SECURE_BITS) -> tuple[PublicKey, PrivateKey]:
    """p, q of bits/2 each, n = pq of exactly `bits` bits, g = n + 1."""
    if bits % 2:
        raise ValueError(f"modulus size must be even, got {bits}")
    check_key_size(bits)
    half = bits // 2
    while True:
        p, q = _random_prime(half), _random_prime(half)
        # a tiny |p - q| lets Fermat's method factor n; for random primes this never fires
        if abs(p - q).bit_length() > half - 64:
            break
    pk = PublicKey(p * q)
    assert pk.bits == bits
    return pk, PrivateKey(pk, p, q)


def to_phe(sk: PrivateKey):
    """The same key pair as `phe` objects (interop and cross-checks only)."""
    from phe import paillier

    pk = paillier.PaillierPublicKey(int(sk.public.n))
    return pk, paillier.PaillierPrivateKey(pk, int(sk.p), int(sk.q))
