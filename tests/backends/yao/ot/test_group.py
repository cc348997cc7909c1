"""The base-OT group: the constant is RFC 7919 ffdhe2048, and bad elements are refused."""
import secrets

import gmpy2
import pytest
from gmpy2 import mpz

from veil.backends.yao.ot import group as grp
from veil.util.errors import ProtocolError


def test_prime_is_ffdhe2048_and_safe():
    assert grp.P == grp.ffdhe2048_from_formula()
    assert grp.P.bit_length() == 2048
    assert gmpy2.is_prime(grp.P, 40) and gmpy2.is_prime(grp.Q, 40)
    assert gmpy2.powmod(grp.G, grp.Q, grp.P) == 1          # g generates the order-q subgroup


def test_legendre_check_equals_exponentiation_check():
    for _ in range(40):
        x = mpz(2 + secrets.randbelow(int(grp.P) - 3))
        assert grp.in_subgroup(x) == (gmpy2.powmod(x, grp.Q, grp.P) == 1)
    x = gmpy2.powmod(grp.G, grp.random_exponent(), grp.P)
    assert grp.in_subgroup(x) and not grp.in_subgroup(grp.P - x)   # -x has odd order * 2


def test_roundtrip():
    x = gmpy2.powmod(grp.G, grp.random_exponent(), grp.P)
    data = grp.encode(x)
    assert len(data) == grp.ELEMENT_BYTES and grp.decode(data) == x


@pytest.mark.parametrize("value", [0, 1, "p-1", "p-2", "p", "p+1", "max"])
def test_decode_rejects_non_members(value):
    x = {"p-1": grp.P - 1, "p-2": grp.P - 2, "p": grp.P, "p+1": grp.P + 1,
         "max": 2 ** 2048 - 1}.get(value, value)
    with pytest.raises(ProtocolError):
        grp.decode(int(x).to_bytes(256, "big"))


@pytest.mark.parametrize("length", [0, 1, 255, 257, 512])
def test_decode_rejects_wrong_length(length):
    with pytest.raises(ProtocolError):
        grp.decode(bytes([7]) * length)


def test_random_exponent_range():
    for _ in range(100):
        assert 1 <= grp.random_exponent() < grp.Q
