"""Key files: atomic, private ones 0600, clear errors, no temporary file left behind."""
from __future__ import annotations

import os
import stat

import pytest

from veil.backends.yao.paillier import (
    InsecureKeyWarning, generate_keypair, load_private_key, load_public_key, save_private_key,
    save_public_key)
from veil.backends.yao.paillier.keyfile import KeyFilePermissionWarning
from veil.util.errors import KeyFileError


@pytest.fixture(scope="module")
def keys():
    with pytest.warns(InsecureKeyWarning):
        return generate_keypair(512)


@pytest.fixture
def open_umask():
    old = os.umask(0)                    # the most permissive umask must still give 0600
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_round_trip_and_modes(tmp_path, keys, open_umask):
    pk, sk = keys
    save_private_key(tmp_path / "u.key", sk)
    save_public_key(tmp_path / "u.pub", pk)
    assert _mode(tmp_path / "u.key") == 0o600
    assert _mode(tmp_path / "u.pub") == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.key", "u.pub"]
    with pytest.warns(InsecureKeyWarning):
        assert load_private_key(tmp_path / "u.key") == sk
    with pytest.warns(InsecureKeyWarning):
        assert load_public_key(tmp_path / "u.pub") == pk


def test_overwrite_tightens_the_mode(tmp_path, keys, open_umask):
    _, sk = keys
    path = tmp_path / "u.key"
    path.write_bytes(b"old")
    path.chmod(0o666)
    save_private_key(path, sk)
    assert _mode(path) == 0o600


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_leaves_no_temp_file_and_keeps_the_old_one(tmp_path, keys, monkeypatch,
                                                                failing):
    _, sk = keys
    path = tmp_path / "u.key"
    path.write_bytes(b"previous key")

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"):
        save_private_key(path, sk)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["u.key"]
    assert path.read_bytes() == b"previous key"


def test_clear_errors_for_wrong_or_corrupt_files(tmp_path, keys):
    pk, sk = keys
    save_public_key(tmp_path / "u.pub", pk)
    save_private_key(tmp_path / "u.key", sk)
    with pytest.raises(KeyFileError, match="u.pub.*expected a Paillier private key, got a public"):
        load_private_key(tmp_path / "u.pub")
    (tmp_path / "cut.key").write_bytes((tmp_path / "u.key").read_bytes()[:40])
    (tmp_path / "cut.key").chmod(0o600)
    with pytest.raises(KeyFileError, match="cut.key.*truncated"):
        load_private_key(tmp_path / "cut.key")
    (tmp_path / "junk.pub").write_bytes(b"-----BEGIN PUBLIC KEY-----\n" * 3)
    with pytest.raises(KeyFileError, match="bad magic"):
        load_public_key(tmp_path / "junk.pub")
    with pytest.raises(FileNotFoundError):
        load_public_key(tmp_path / "missing.pub")


def test_group_readable_private_key_warns(tmp_path, keys):
    _, sk = keys
    path = tmp_path / "u.key"
    save_private_key(path, sk)
    path.chmod(0o640)
    with pytest.warns(KeyFilePermissionWarning), pytest.warns(InsecureKeyWarning):
        assert load_private_key(path) == sk
