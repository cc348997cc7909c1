"""Binary format: round trips, exact sizes, and every rejection a peer's bytes can trigger."""
from __future__ import annotations

import struct

import pytest

from veil.backends.yao.paillier import (
    InsecureKeyWarning, PublicKey, decrypt_signed, dumps_ciphertexts, dumps_private_key,
    dumps_public_key, encrypt_signed, generate_keypair, loads_ciphertexts, loads_private_key,
    loads_public_key)
from veil.backends.yao.paillier.codec import HEADER_SIZE, MAGIC
from veil.util.errors import ProtocolError


@pytest.fixture(scope="module")
def keys():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(512)


@pytest.fixture(scope="module")
def other_keys():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(512)


def _header(kind=3, version=1, magic=MAGIC, fingerprint=b"\0" * 16, width=128, count=0):
    return struct.pack(">8sBB16sHI", magic, version, kind, fingerprint, width, count)


def test_key_round_trips(keys):
    pk, sk = keys
    blob = dumps_public_key(pk)
    assert len(blob) == HEADER_SIZE + 64
    with pytest.warns(InsecureKeyWarning):                        # a short key warns on load too
        assert loads_public_key(blob) == pk
    with pytest.warns(InsecureKeyWarning):
        sk2 = loads_private_key(dumps_private_key(sk))
    assert sk2 == sk and sk2.hp == sk.hp


def test_ciphertext_round_trip_is_fixed_width(keys):
    pk, sk = keys
    values = [0, -1, 2**300, -(2**300)]
    cts = encrypt_signed(pk, values)
    blob = dumps_ciphertexts(pk, cts)
    assert len(blob) == HEADER_SIZE + len(cts) * 2 * 512 // 8
    assert blob[:8] == MAGIC and blob[10:26] == pk.fingerprint
    assert decrypt_signed(sk, loads_ciphertexts(pk, blob)) == values
    assert loads_ciphertexts(pk, dumps_ciphertexts(pk, [])) == []


def test_rejects_an_array_for_another_key(keys, other_keys):
    pk, _ = keys
    blob = dumps_ciphertexts(other_keys[0], encrypt_signed(other_keys[0], [1, 2]))
    with pytest.raises(ProtocolError, match="different Paillier key"):
        loads_ciphertexts(pk, blob)


def test_rejects_bad_headers(keys):
    pk, _ = keys
    blob = dumps_ciphertexts(pk, encrypt_signed(pk, [5, 6]))
    cases = {
        "bad magic": b"NOTVEIL!" + blob[8:],
        "version": blob[:8] + bytes([2]) + blob[9:],
        "got a public key": dumps_public_key(pk),
        "truncated": blob[:HEADER_SIZE - 1],
        "header announces": blob[:-1],
        "trailing": blob + b"\0",
        "width": _header(fingerprint=pk.fingerprint, width=100, count=1) + b"\1" * 100,
        "zero element width": _header(width=0, count=3),
    }
    for match, data in cases.items():
        with pytest.raises(ProtocolError, match=match):
            loads_ciphertexts(pk, data)


def test_rejects_ciphertexts_outside_the_unit_group(keys):
    pk, sk = keys
    width = 2 * pk.byte_width
    for match, bad in [("out of range", 0), ("out of range", pk.nsquare),
                       ("not a unit", sk.p), ("not a unit", pk.n * 3)]:
        good = encrypt_signed(pk, [1])[0]
        blob = (_header(fingerprint=pk.fingerprint, width=width, count=2)
                + int(good).to_bytes(width, "big") + int(bad).to_bytes(width, "big"))
        with pytest.raises(ProtocolError, match=match):
            loads_ciphertexts(pk, blob)


def test_rejects_wrong_or_corrupt_keys(keys):
    pk, sk = keys
    with pytest.raises(ProtocolError, match="expected a Paillier private key, got a public key"):
        loads_private_key(dumps_public_key(pk))
    with pytest.raises(ProtocolError, match="expected a Paillier public key, got a private key"):
        loads_public_key(dumps_private_key(sk))
    with pytest.raises(ProtocolError, match="expected a Paillier public key, got a ciphertext array"):
        loads_public_key(dumps_ciphertexts(pk, []))
    flipped = bytearray(dumps_public_key(pk))
    flipped[-1] ^= 2                                              # n stays odd, fingerprint breaks
    with pytest.raises(ProtocolError, match="fingerprint"), pytest.warns(InsecureKeyWarning):
        loads_public_key(bytes(flipped))
    flipped = bytearray(dumps_private_key(sk))
    flipped[-1] ^= 2                # q ^ 2 is itself prime for about 1 key in 130 (768 bits)
    with pytest.raises(ProtocolError, match="not prime|fingerprint does not match p\\*q"):
        loads_private_key(bytes(flipped))
    with pytest.raises(ProtocolError, match="truncated"):
        loads_private_key(dumps_private_key(sk)[:-3])


def test_keys_that_fail_their_own_checks_are_protocol_errors(keys):
    """An even modulus or p = q is bad data from a peer, not a bug: ProtocolError, not the
    ValueError the key classes raise for a caller's mistake."""
    pk, sk = keys
    width = pk.byte_width
    even = _header(kind=1, fingerprint=pk.fingerprint, width=width, count=1) \
        + int(pk.n + 1).to_bytes(width, "big")
    with pytest.raises(ProtocolError, match="corrupt Paillier public key: .*odd"), \
            pytest.warns(InsecureKeyWarning):
        loads_public_key(even)
    p = sk.q
    square = PublicKey(p * p)
    same = _header(kind=2, fingerprint=square.fingerprint, width=(int(p).bit_length() + 7) // 8,
                   count=2) + 2 * int(p).to_bytes((int(p).bit_length() + 7) // 8, "big")
    with pytest.raises(ProtocolError, match="corrupt Paillier private key: .*distinct"), \
            pytest.warns(InsecureKeyWarning):
        loads_private_key(same)
