"""All-or-nothing writes: the target is either the old file or the complete new one, never a
partial file, and a secret is never readable by others while it is written."""
import os
import stat

import pytest

from veil.util import atomic
from veil.util.atomic import (atomic_target, atomic_write_bytes, atomic_write_files,
                               atomic_write_text)


def test_a_write_replaces_the_target_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    atomic_write_text(target, "new contents")
    assert target.read_text() == "new contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_target(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"half of it")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_modes(tmp_path):
    secret = tmp_path / "k.key"
    atomic_write_bytes(secret, b"s", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    mask = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "p.pub", b"p")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "p.pub").stat().st_mode) == 0o644


def test_a_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "nowhere" / "x.txt", "x")


def test_several_files_all_written(tmp_path):
    (tmp_path / "a.veil").write_text("old a")
    atomic_write_files({tmp_path / "a.npz": b"new npz", tmp_path / "a.veil": b"new a"})
    assert (tmp_path / "a.npz").read_bytes() == b"new npz"
    assert (tmp_path / "a.veil").read_bytes() == b"new a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "a.veil"]


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_several_files_all_or_none(tmp_path, monkeypatch, fail_at):
    """Whichever move fails (old first aside, first into place, second aside, second into
    place), both targets are as they were and no temporary file stays."""
    (tmp_path / "a.npz").write_bytes(b"old npz")
    (tmp_path / "a.veil").write_bytes(b"old a")
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == fail_at:
            raise OSError("disk full")
        real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_files({tmp_path / "a.npz": b"new npz", tmp_path / "a.veil": b"new a"})
    assert (tmp_path / "a.npz").read_bytes() == b"old npz"
    assert (tmp_path / "a.veil").read_bytes() == b"old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "a.veil"]


def test_several_files_none_when_a_folder_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_files({tmp_path / "a.npz": b"n", tmp_path / "no" / "a.veil": b"a"})
    assert list(tmp_path.iterdir()) == []
