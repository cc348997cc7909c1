"""Paillier on raw ciphertexts: the arithmetic layer both lowerings (paper, packed) build on.

A ciphertext is an mpz in Z*_{n^2}: Enc(m) = (1 + m n) * f mod n^2, where f = r^n is the
rerandomisation factor from a `NoiseSource` (g = n + 1 makes g^m = 1 + m n, so encryption
costs one factor plus a multiplication). Functions take and return plain lists of mpz, no
per-element wrapper objects. Homomorphic results (add, mul_plain, multi_exp, ...) reuse their
inputs' randomness: rerandomise anything before sending it to the key owner.

This module also re-exports keys, encoding, noise sources and serialisation, so callers need
one import.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import gmpy2
from gmpy2 import mpz

from veil.backends.yao.paillier.codec import (
    dumps_ciphertexts, dumps_private_key, dumps_public_key, loads_ciphertexts, loads_private_key,
    loads_public_key)
from veil.backends.yao.paillier.encoding import decode_signed, encode_signed, max_signed, residue
from veil.backends.yao.paillier.keyfile import (
    load_private_key, load_public_key, save_private_key, save_public_key)
from veil.backends.yao.paillier.keys import (
    InsecureKeyWarning, PrivateKey, PublicKey, generate_keypair, to_phe)
from veil.backends.yao.paillier.multiexp import multi_exp_mod
from veil.backends.yao.paillier.noise import (
    CrtNoise, FreshNoise, NoisePool, NoiseSource, PoolExhausted, ShortExpNoise)

Ciphertext = mpz

__all__ = [
    "Ciphertext", "CrtNoise", "FreshNoise", "InsecureKeyWarning", "NoisePool", "NoiseSource",
    "PoolExhausted", "PrivateKey", "PublicKey", "ShortExpNoise", "add", "add_plain",
    "decode_signed", "decrypt", "decrypt_signed", "decrypt_without_crt", "dumps_ciphertexts",
    "dumps_private_key", "dumps_public_key", "encode_signed", "encrypt", "encrypt_signed",
    "generate_keypair", "load_private_key", "load_public_key", "loads_ciphertexts",
    "loads_private_key", "loads_public_key", "max_signed", "mul_plain", "multi_exp", "neg",
    "recover_randomness", "rerandomise", "rerandomise_all", "residue", "save_private_key",
    "save_public_key", "sub", "sum_ciphertexts", "to_phe",
]


def _noise(pk: PublicKey, noise: NoiseSource | None) -> NoiseSource:
    if noise is None:
        return FreshNoise(pk)
    if noise.pk != pk:              # factors mod another n^2 would corrupt every ciphertext
        raise ValueError("noise source belongs to a different Paillier key")
    return noise


def encrypt(pk: PublicKey, values: Iterable[int], noise: NoiseSource | None = None
            ) -> list[mpz]:
    """Residues mod n (any -n < v < n, reduced mod n) -> fresh ciphertexts."""
    ms = [residue(pk, v) for v in values]
    factors = _noise(pk, noise).take(len(ms))
    n, n2 = pk.n, pk.nsquare
    return [(1 + m * n) * f % n2 for m, f in zip(ms, factors)]


def encrypt_signed(pk: PublicKey, values: Iterable[int], noise: NoiseSource | None = None
                   ) -> list[mpz]:
    """Signed integers with |v| < n/3 (checked) -> fresh ciphertexts."""
    return encrypt(pk, [encode_signed(pk, v) for v in values], noise)


def decrypt(sk: PrivateKey, cts: Sequence[int]) -> list[int]:
    """Ciphertexts -> residues in [0, n), by CRT: L_p(c^(p-1) mod p^2) hp mod p, same mod q."""
    cts, p, q = list(cts), sk.p, sk.q
    xp = gmpy2.powmod_base_list(cts, p - 1, sk.psquare)
    xq = gmpy2.powmod_base_list(cts, q - 1, sk.qsquare)
    out = []
    for a, b in zip(xp, xq):
        mp = (a - 1) // p * sk.hp % p
        mq = (b - 1) // q * sk.hq % q
        out.append(int(mp + p * ((mq - mp) * sk.p_inv_q % q)))
    return out


def decrypt_signed(sk: PrivateKey, cts: Sequence[int], check: bool = True) -> list[int]:
    """Ciphertexts -> signed values in (-n/2, n/2]; `check` rejects the overflow gap."""
    return [decode_signed(sk.public, m, check) for m in decrypt(sk, cts)]


def decrypt_without_crt(sk: PrivateKey, cts: Sequence[int]) -> list[int]:
    """Textbook m = L(c^phi mod n^2) phi^-1 mod n: the baseline CRT decryption is measured
    against."""
    cts, n, phi = list(cts), sk.public.n, sk.phi
    mu = gmpy2.invert(phi, n)            # L(g^phi mod n^2) = phi mod n when g = n + 1
    xs = gmpy2.powmod_base_list(cts, phi, sk.public.nsquare)
    return [int((x - 1) // n * mu % n) for x in xs]


def add(pk: PublicKey, a: int, b: int) -> mpz:
    return mpz(a) * b % pk.nsquare


def sub(pk: PublicKey, a: int, b: int) -> mpz:
    return mpz(a) * gmpy2.invert(b, pk.nsquare) % pk.nsquare


def add_plain(pk: PublicKey, a: int, k: int) -> mpz:
    """Enc(m) -> Enc(m + k) for any integer k, without an exponentiation."""
    return mpz(a) * (1 + int(k) % pk.n * pk.n) % pk.nsquare


def mul_plain(pk: PublicKey, a: int, k: int) -> mpz:
    """Enc(m) -> Enc(k m). k is taken mod n and then as the shorter of k and k - n, so a
    negative k costs an inversion plus a |k|-bit exponent, not an |n|-bit one."""
    e = int(k) % pk.n
    if 2 * e > pk.n:
        e -= int(pk.n)                  # gmpy2 powmod inverts the base for e < 0
    return gmpy2.powmod(a, e, pk.nsquare)


def neg(pk: PublicKey, a: int) -> mpz:
    return gmpy2.invert(a, pk.nsquare)


def rerandomise(pk: PublicKey, a: int, noise: NoiseSource | None = None) -> mpz:
    """Same plaintext, fresh randomness: multiply by a fresh Enc(0) = r^n."""
    return mpz(a) * _noise(pk, noise).take(1)[0] % pk.nsquare


def rerandomise_all(pk: PublicKey, cts: Sequence[int], noise: NoiseSource | None = None
                    ) -> list[mpz]:
    factors = _noise(pk, noise).take(len(cts))
    return [mpz(c) * f % pk.nsquare for c, f in zip(cts, factors)]


def sum_ciphertexts(pk: PublicKey, cts: Iterable[int]) -> mpz:
    """Enc(sum m_i). The empty sum is the trivial, non-random Enc(0) = 1."""
    acc = mpz(1)
    for c in cts:
        acc = acc * c % pk.nsquare
    return acc


def multi_exp(pk: PublicKey, bases: Sequence[int], exponents: Sequence[int]) -> mpz:
    """prod_j bases[j]^exponents[j] mod n^2 (Pippenger), i.e. Enc(sum_j e_j m_j).
    Exponents are used as integers, not reduced mod n; negative ones cost one inversion total."""
    return multi_exp_mod(bases, exponents, pk.nsquare)


def recover_randomness(sk: PrivateKey, c: int) -> int:
    """The unique r in Z*_n with c = (1 + n)^m r^n mod n^2: r = (c (1 - m n))^(n^-1 mod phi) mod n.

    For security tests: two ciphertexts with the same r share their randomness."""
    n, n2 = sk.public.n, sk.public.nsquare
    c = mpz(c)
    if not 0 < c < n2 or gmpy2.gcd(c, n) != 1:
        raise ValueError("not a ciphertext: outside Z*_{n^2}")
    m = decrypt(sk, [c])[0]
    r_n = c * (1 - m * n) % n2           # (1 + n)^-m = 1 - m n mod n^2
    return int(gmpy2.powmod(r_n % n, sk.n_inv_phi, n))
