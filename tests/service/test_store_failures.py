"""The cloud store under injected failures and real crashes: the old version stays whole and
nothing is left behind."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from veil.service import store_schema
from veil.service.store import Store

from .store_testkit import alice, path, store  # noqa: F401  (fixtures)
from .store_testkit import (KEY_A, OWNER, V1, V2, blob_files, by_owner, expected_files,
                            open_store, sha)


# -- injected failures: the old version stays whole, nothing is left behind --------------------

def test_failed_rename_midway_keeps_old_model(store, path, alice, monkeypatch):
    store.put_model("compact", alice, {"v": 1}, V1, **by_owner())
    real, calls = os.replace, []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="No space left"):
        store.put_model("compact", alice, {"v": 2}, V2, **by_owner())
    monkeypatch.undo()
    assert len(calls) == 2
    rec = store.get_model("compact", alice)
    assert rec.version == 1 and rec.manifest == {"v": 1}
    assert {k: store.read_blob(rec, k) for k in rec.blobs} == V1
    assert blob_files(path) == expected_files(V1)            # no temp file, no new blob


@pytest.mark.parametrize("what", ["model", "secret"])
def test_failed_commit_keeps_old_state(store, path, alice, monkeypatch, what):
    store.put_model("compact", alice, {"v": 1}, V1, **by_owner())
    store.put_secret("compact", alice, 1, "R", b"mask 1")

    def fail(conn):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store_schema, "commit", fail)
    with pytest.raises(sqlite3.OperationalError):
        if what == "model":
            store.put_model("compact", alice, {"v": 2}, V2, **by_owner())
        else:
            store.put_secrets("compact", alice, 1, {"R": b"mask 2"}, provisioned=True)
    monkeypatch.undo()
    rec = store.get_model("compact", alice)
    assert rec.version == 1 and store.read_blob(rec, "w1") == V1["w1"]
    assert store.get_secret("compact", alice, 1, "R") == b"mask 1"
    assert not store.is_provisioned("compact", alice, 1)
    assert blob_files(path) == expected_files(V1, {"R": b"mask 1"})


_CRASH = textwrap.dedent("""
    import os, sys
    from veil.service import store_blobs, store_schema
    from veil.service.store import Store
    s = Store.open(sys.argv[1])
    uid = s.register_user("alice", b"alice public key")
    point = sys.argv[2]
    if point == "rename":                 # a temp file written, not yet renamed
        os.replace = lambda src, dst: os._exit(9)
    elif point == "commit":               # blob files in place, transaction not committed
        store_schema.commit = lambda conn: os._exit(9)
    elif point == "cleanup":              # committed, old files not yet deleted
        store_blobs.BlobDir.remove_unused = lambda *a: os._exit(9)
    s.put_model("compact", uid, {"v": 2}, {"w1": b"new layer 1", "w2": b"new layer 2"},
                owner_id=sys.argv[3], counter=2 ** 62)
    os._exit(0)
""")


@pytest.mark.parametrize("point,survivor", [("rename", 1), ("commit", 1), ("cleanup", 2)])
def test_crash_leaves_a_whole_version(path, point, survivor):
    v1, v2 = {"w1": b"layer 1", "w2": b"layer 2"}, {"w1": b"new layer 1", "w2": b"new layer 2"}
    with open_store(path) as s:
        s.put_model("compact", s.register_user("alice", KEY_A), {"v": 1}, v1, **by_owner())
    run = subprocess.run([sys.executable, "-c", _CRASH, str(path), point, OWNER], timeout=60)
    assert run.returncode == 9                            # it died at the chosen point
    leftovers = blob_files(path) - expected_files(v1, v2)
    assert all(n.startswith(".tmp-") for n in leftovers)
    assert bool(leftovers) == (point == "rename")         # the temp file it was writing
    with Store.open(path) as s:                           # opening sweeps the leftovers
        rec = s.get_model("compact", sha(KEY_A))
        assert rec.version == survivor and rec.manifest == {"v": survivor}
        expect = v1 if survivor == 1 else v2
        assert {k: s.read_blob(rec, k) for k in rec.blobs} == expect
    assert blob_files(path) == expected_files(expect)


def test_open_sweeps_temp_files_and_unreferenced_blobs(path):
    with open_store(path) as s:
        s.put_model("compact", s.register_user("alice", KEY_A), {}, V1, **by_owner())
    (path / "blobs" / ".tmp-abandoned").write_bytes(b"half")
    (path / "blobs" / f"{'0' * 64}.blob").write_bytes(b"orphan")
    (path / "blobs" / "README").write_text("not ours")
    Store.open(path).close()
    assert blob_files(path) == expected_files(V1) | {"README"}
