"""Key generation, key objects and interop with phe."""
from __future__ import annotations

import ast
import warnings
from pathlib import Path

import gmpy2
import pytest

from veil.backends.yao import paillier
from veil.backends.yao.paillier import (
    InsecureKeyWarning, PrivateKey, PublicKey, decrypt, encrypt, generate_keypair, to_phe)


def _keys(bits: int) -> tuple[PublicKey, PrivateKey]:
    with pytest.warns(InsecureKeyWarning, match=f"{bits}-bit"):
        return generate_keypair(bits)


@pytest.mark.parametrize("bits", [256, 512, 1024])
def test_modulus_has_exactly_the_requested_size(bits):
    pk, sk = _keys(bits)
    assert pk.bits == bits
    assert int(sk.p).bit_length() == int(sk.q).bit_length() == bits // 2
    assert gmpy2.is_prime(sk.p) and gmpy2.is_prime(sk.q) and sk.p < sk.q
    assert pk.byte_width == bits // 8


def test_two_keys_differ():
    (pk1, _), (pk2, _) = _keys(256), _keys(256)
    assert pk1 != pk2 and pk1.fingerprint != pk2.fingerprint


@pytest.mark.parametrize("bits", [64, 255, 1023])
def test_bad_sizes_are_refused(bits):
    with pytest.raises(ValueError):
        generate_keypair(bits)


def test_private_key_repr_hides_the_factors():
    pk, sk = _keys(256)
    assert str(sk.p) not in repr(sk) and str(sk.q) not in repr(sk)


def test_private_key_checks_the_factors():
    pk, sk = _keys(256)
    with pytest.raises(ValueError):
        PrivateKey(pk, sk.p, sk.q + 2)
    with pytest.raises(ValueError):
        PublicKey(pk.n + 1)                         # even modulus


def test_interop_with_phe():
    pk, sk = _keys(512)
    ppk, psk = to_phe(sk)
    ours = encrypt(pk, [42])[0]
    assert psk.raw_decrypt(int(ours)) == 42
    assert decrypt(sk, [ppk.raw_encrypt(1234)]) == [1234]


def test_no_weak_randomness_imported():
    """Every paillier module draws randomness from secrets only: no `random`, no numpy.random."""
    paths = sorted(Path(paillier.__file__).parent.glob("*.py"))
    assert {"keys.py", "noise.py", "subset_noise.py", "codec.py"} <= {p.name for p in paths}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] != "random" and "numpy.random" not in name, \
                    f"{path.name} imports {name}"
        for weak in ("np.random", "default_rng", "import random"):
            assert weak not in path.read_text(), f"{path.name} uses {weak}"


@pytest.mark.slow
def test_2048_bit_key_round_trip_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureKeyWarning)
        pk, sk = generate_keypair(2048)
    assert pk.bits == 2048
    values = [0, 1, -1, 2**2000, -(2**2000)]
    assert paillier.decrypt_signed(sk, paillier.encrypt_signed(pk, values)) == values
    c = encrypt(pk, [9], paillier.CrtNoise(sk))[0]
    assert decrypt(sk, [c]) == paillier.decrypt_without_crt(sk, [c]) == [9]
