"""Owner key files: written atomically with the private key 0600, never overwritten, read back
only when they are what they say (format line, version, Ed25519), and signatures that bind
exactly the signed bytes."""
from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from veil.service.owner_keys import (OwnerKeyPermissionWarning, OwnerPublicKey, keygen,
                                     load_private, load_public)
from veil.util.errors import KeyFileError, UsageError


def test_keygen_writes_a_pair_that_loads_back(tmp_path):
    old = os.umask(0)
    try:
        key_path, pub_path, key = keygen(tmp_path / "owner.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert pub_path == tmp_path / "owner.pub"
    assert key_path.read_text().startswith("veil-owner-key 1\n-----BEGIN PRIVATE KEY-----")
    assert pub_path.read_text().startswith("veil-owner-public-key 1\n-----BEGIN PUBLIC KEY-----")
    assert load_public(pub_path) == key.public
    assert load_private(key_path).public == key.public
    assert len(key.public.fingerprint) == 64
    assert sorted(os.listdir(tmp_path)) == ["owner.key", "owner.pub"]   # no temporary left


def test_keygen_never_overwrites_an_owner_key(tmp_path):
    keygen(tmp_path / "owner.key")
    before = (tmp_path / "owner.key").read_bytes()
    with pytest.raises(UsageError, match="exists: refusing to replace an owner key"):
        keygen(tmp_path / "owner.key")
    with pytest.raises(UsageError, match="other than"):
        keygen(tmp_path / "x.pub")
    assert (tmp_path / "owner.key").read_bytes() == before


def test_signatures_bind_the_message(tmp_path):
    key = keygen(tmp_path / "a.key")[2]
    other = keygen(tmp_path / "b.key")[2]
    sig = key.sign(b"message")
    assert key.public.verify(sig, b"message")
    assert not key.public.verify(sig, b"messagE")
    assert not other.public.verify(sig, b"message")
    assert not key.public.verify(sig[:-1], b"message")
    with pytest.raises(ValueError):
        OwnerPublicKey.from_raw(b"\x00" * 31)


def _ec_pem(private: bool) -> bytes:
    k = ec.generate_private_key(ec.SECP256R1())
    if private:
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("content,message", [
    (b"-----BEGIN PUBLIC KEY-----\n", "not a veil owner public key (its first line should be "
                                      "'veil-owner-public-key 1')"),
    (b"veil-owner-public-key 2\n", "owner public key format version '2' is not supported"),
    (b"veil-owner-public-key 1\n" + _ec_pem(False), "owner public key is not an Ed25519 key"),
    (b"veil-owner-public-key 1\ngarbage", "cannot load owner public key"),
    (b"veil-owner-key 1\n" + _ec_pem(True), "not a veil owner public key"),
    (b"x" * 5000, "larger than 4096 bytes"),
], ids=["pem-only", "version-2", "ec-key", "garbage", "private-key", "too-large"])
def test_bad_public_key_files_are_one_line(tmp_path, content, message):
    path = tmp_path / "bad.pub"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as e:
        load_public(path)
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_private_key_files(tmp_path):
    path = tmp_path / "bad.key"
    path.write_bytes(b"veil-owner-key 1\n" + _ec_pem(True))
    with pytest.raises(KeyFileError, match="owner private key is not an Ed25519 key"):
        load_private(path)
    key_path = keygen(tmp_path / "ok.key")[0]
    os.chmod(key_path, 0o644)
    with pytest.warns(OwnerKeyPermissionWarning, match="chmod 600"):
        load_private(key_path)
