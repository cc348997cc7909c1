"""Checks of a Paillier key and of ciphertexts received from a party that may not play fair.

The codec (codec.py) already refuses bytes that are not a key, ciphertexts of another width or
key, and ciphertexts outside Z*_{n^2} (0 < c < n^2, gcd(c, n) = 1). What it cannot know is
what the receiver expects of them; these checks say it:

* a key another party made for itself must have exactly the size the program was compiled
  for, and a modulus no honest key generator makes is refused: even, prime, a perfect power,
  or with a prime factor below 2^16. This is plausibility, not proof: a modulus with three
  large primes or a repeated large factor passes, and nothing here stops the key's owner from
  decrypting what is sent under it (docs/protocol.md, "What a malicious cloud can still do").
* a ciphertext that must carry fresh randomness has some. c = (1 + m n) r^n mod n^2, so
  c mod n = r^n mod n, and r -> r^n is a bijection of Z*_n for a proper key: c = +-1 mod n
  means r = +-1 (the trivial encryption 1 + m n, which anyone can make without the key, and
  from which anyone can read m), and two ciphertexts equal mod n share one r.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import gmpy2
from gmpy2 import mpz

from veil.backends.yao.paillier.keys import PublicKey
from veil.util.errors import ProtocolError

SMALL_FACTOR_BOUND = 1 << 16         # trial division by every prime below this


@cache
def small_primes_product() -> mpz:
    """The product of the primes below SMALL_FACTOR_BOUND (94,027 bits; one gcd tests all)."""
    product, p = mpz(1), mpz(2)
    while p < SMALL_FACTOR_BOUND:
        product *= p
        p = gmpy2.next_prime(p)
    return product


def check_modulus(pk: PublicKey, bits: int, what: str) -> None:
    """ProtocolError unless pk's modulus has exactly `bits` bits and looks like a product of
    two large primes."""
    n = pk.n
    if pk.bits != bits:
        raise ProtocolError(f"{what} has {pk.bits} bits, the program's keys have {bits}")
    if n % 2 == 0 or gmpy2.gcd(n, small_primes_product()) != 1:
        raise ProtocolError(f"{what} has a prime factor below {SMALL_FACTOR_BOUND}: not a "
                            "Paillier modulus")
    if gmpy2.is_power(n):
        raise ProtocolError(f"{what} is a perfect power: not a Paillier modulus")
    if gmpy2.is_prime(n, 25):
        raise ProtocolError(f"{what} is prime: not a Paillier modulus")


def check_fresh(pk: PublicKey, cts: Sequence[int], what: str) -> None:
    """ProtocolError unless every ciphertext carries its own randomness: none is +-1 mod n,
    no two are equal mod n. Ciphertexts must have passed the codec (units mod n^2)."""
    n = pk.n
    trivial = {mpz(1), n - 1}
    seen: set[mpz] = set()
    for i, c in enumerate(cts):
        r = mpz(c) % n
        if r in trivial:
            raise ProtocolError(f"{what}: ciphertext {i} carries no randomness "
                                "(it is +-1 mod n, an encryption anyone can make)")
        if r in seen:
            raise ProtocolError(f"{what}: ciphertext {i} reuses the randomness of an "
                                "earlier one")
        seen.add(r)
