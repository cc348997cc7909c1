"""util.exchange swaps two folders in one step where it can, and otherwise changes nothing."""
import sys

import pytest

from veil.util.exchange import exchange


def folder(path, name):
    path.mkdir()
    (path / name).write_text(name)
    return path


def test_two_folders_swap_or_nothing_changes(tmp_path):
    a, b = folder(tmp_path / "a", "old"), folder(tmp_path / "b", "new")
    done = exchange(b, a)
    if sys.platform.startswith("linux"):
        assert done                  # glibc has renameat2; ext4 and tmpfs can exchange
    names = {p.name: sorted(q.name for q in p.iterdir()) for p in (a, b)}
    assert names == ({"a": ["new"], "b": ["old"]} if done else {"a": ["old"], "b": ["new"]})


def test_a_missing_path_is_an_os_error(tmp_path):
    a = folder(tmp_path / "a", "x")
    if not exchange(a, a):           # nothing to test where it cannot exchange at all
        return
    with pytest.raises(FileNotFoundError):
        exchange(a, tmp_path / "missing")
    assert (a / "x").read_text() == "x"
