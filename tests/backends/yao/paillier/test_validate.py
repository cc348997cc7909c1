"""validate.py: a proper key and fresh encryptions pass; a modulus no key generator makes, and
ciphertexts anyone can make without the key (c = +-1 mod n) or that share randomness, fail."""
import warnings

import gmpy2
import pytest
from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.paillier.validate import (SMALL_FACTOR_BOUND, check_fresh,
                                                 check_modulus)
from veil.util.errors import ProtocolError

BITS = 512


@pytest.fixture(scope="module")
def keys():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        return P.generate_keypair(BITS)


def test_a_generated_key_passes(keys):
    check_modulus(keys[0], BITS, "the key")


def _with_bits(n):
    assert n.bit_length() == BITS and n % 2, n
    return P.PublicKey(n)


@pytest.mark.parametrize("case,match", [
    ("square", "perfect power"), ("fifth power", "perfect power"),
    ("largest small prime", "prime factor below"), ("three primes, one small", "prime factor"),
    ("prime", "is prime"),
])
def test_implausible_moduli_fail(case, match):
    top = mpz(3) << (BITS - 2)
    small = gmpy2.prev_prime(SMALL_FACTOR_BOUND)
    big = gmpy2.next_prime(top // (small * 1000003)) * 1000003
    n = {"square": gmpy2.next_prime(gmpy2.isqrt(top)) ** 2,
         "fifth power": gmpy2.next_prime(gmpy2.iroot(top, 5)[0]) ** 5,
         "largest small prime": small * gmpy2.next_prime(top // small),
         "three primes, one small": small * big,
         "prime": gmpy2.next_prime(top)}[case]
    with pytest.raises(ProtocolError, match=match):
        check_modulus(_with_bits(n), BITS, "the key")


def test_the_size_is_exact(keys):
    with pytest.raises(ProtocolError, match="has 512 bits, the program's keys have 1024"):
        check_modulus(keys[0], 2 * BITS, "the key")
    with pytest.raises(ProtocolError, match="has 512 bits, the program's keys have 256"):
        check_modulus(keys[0], BITS // 2, "the key")


def test_fresh_encryptions_pass(keys):
    pk = keys[0]
    check_fresh(pk, P.encrypt(pk, [0] * 50 + [1] * 50), "E")


@pytest.mark.parametrize("case", ["one", "1 + m n", "-1 mod n", "reused"])
def test_ciphertexts_anyone_can_make_fail(keys, case):
    pk, sk = keys
    n, n2 = pk.n, pk.nsquare
    fresh = P.encrypt(pk, [5, 6, 7])
    bad = {"one": mpz(1), "1 + m n": (1 + 42 * n) % n2, "-1 mod n": (1 + 42 * n) * (n - 1) % n2,
           "reused": fresh[0] * (1 + 9 * n) % n2}[case]
    assert gmpy2.gcd(bad, n) == 1
    with pytest.raises(ProtocolError, match="no randomness" if case != "reused"
                       else "ciphertext 3 reuses the randomness"):
        check_fresh(pk, fresh + [bad], "E")
    if case == "1 + m n":
        assert P.decrypt(sk, [bad]) == [42]        # anyone reads it: (c - 1) / n
        assert (bad - 1) // n == 42
