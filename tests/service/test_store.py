"""The cloud store: layout and modes on disk, persistence, versions, corruption detection,
per-user isolation, provisioning state, usage (failures: test_store_failures.py; threads:
test_store_threads.py)."""
from __future__ import annotations

import os
import sqlite3

import pytest

from veil.service.store import Store, StoreConflict, StoreCorrupt, StoreError

from .store_testkit import alice, path, store  # noqa: F401  (fixtures)
from .store_testkit import (KEY_A, KEY_B, V1, V2, blob_files, by_owner, expected_files, mode,
                            open_store, sha)


# -- layout, schema, locking ------------------------------------------------------------------

def test_open_creates_private_layout_even_with_open_umask(path):
    old = os.umask(0)
    try:
        with open_store(path) as s:
            uid = s.register_user("alice", KEY_A)
            s.put_model("compact", uid, {}, {"w": b"x"}, **by_owner())
            s.put_secret("compact", uid, 1, "R", b"mask")
    finally:
        os.umask(old)
    assert mode(path) == 0o700 and mode(path / "blobs") == 0o700
    assert mode(path / "store.sqlite3") == 0o600
    assert {mode(f) for f in (path / "blobs").iterdir()} == {0o600}
    db = sqlite3.connect(path / "store.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(2,)]


def test_newer_schema_is_refused_in_one_line(path):
    Store.open(path).close()
    db = sqlite3.connect(path / "store.sqlite3")
    db.execute("UPDATE schema_version SET version = 7")
    db.commit()
    with pytest.raises(StoreError, match=r"schema version 7 is newer .* \(2\); upgrade veil") as e:
        Store.open(path)
    assert "\n" not in str(e.value)
    db.execute("UPDATE schema_version SET version = 2")
    db.commit()
    db.close()
    Store.open(path).close()                              # the refused open released its lock


def test_not_a_database_and_not_a_folder(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "store.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot use the database"):
        Store.open(tmp_path / "s")
    (tmp_path / "f").write_text("x")
    with pytest.raises(StoreError, match="is not a folder"):
        Store.open(tmp_path / "f")


def test_one_open_store_per_folder(path):
    s = Store.open(path)
    with pytest.raises(StoreError, match="already open"):
        Store.open(path)
    s.close()
    s.close()                                             # idempotent
    with pytest.raises(StoreError, match="closed"):
        s.user("x")
    Store.open(path).close()


# -- users -------------------------------------------------------------------------------------

def test_users(store):
    uid = store.register_user("alice", KEY_A)
    assert uid == sha(KEY_A)
    assert store.register_user("alice", KEY_A) == uid     # idempotent
    with pytest.raises(StoreConflict, match="user alice is already registered with a different"):
        store.register_user("alice", KEY_B)
    with pytest.raises(StoreConflict, match="already registered as user alice"):
        store.register_user("mallory", KEY_A)
    rec = store.user(uid)
    assert (rec.name, rec.public_key) == ("alice", KEY_A)
    assert store.user_by_name("alice") == rec
    assert store.user("0" * 64) is None and store.user_by_name("bob") is None
    with pytest.raises(ValueError, match="user name"):
        store.register_user("bad\nname", KEY_B)


# -- models ------------------------------------------------------------------------------------

def test_everything_persists_across_reopen(path):
    with open_store(path) as s:
        uid = s.register_user("alice", KEY_A)
        assert s.put_model("compact", uid, {"layers": [1, 2], "bits": 2048}, V1, **by_owner()) == 1
        s.put_secrets("compact", uid, 1, {"R": b"mask R", "keys": b"key pair"}, provisioned=True)
        s.record_usage(uid, "compact", 64, at=1000.0)
    with Store.open(path) as s:
        assert s.user(uid).name == "alice"
        rec = s.get_model("compact", uid)
        assert (rec.name, rec.user_id, rec.version) == ("compact", uid, 1)
        assert rec.manifest == {"layers": [1, 2], "bits": 2048}
        assert {k: s.read_blob(rec, k) for k in rec.blobs} == V1
        assert s.get_secret("compact", uid, 1, "R") == b"mask R"
        assert s.get_secret("compact", uid, 1, "keys") == b"key pair"
        assert s.is_provisioned("compact", uid, 1)
        assert s.usage_since(uid, "compact", 0) == 64
    assert blob_files(path) == expected_files(V1, {"R": b"mask R", "keys": b"key pair"})


def test_replace_bumps_version_and_removes_only_unused_files(store, path, alice):
    store.put_model("compact", alice, {"v": 1}, V1, **by_owner())
    store.put_secret("compact", alice, 1, "R", b"old mask")
    store.mark_provisioned("compact", alice, 1)
    assert store.put_model("compact", alice, {"v": 2}, V2, **by_owner()) == 2
    rec = store.get_model("compact", alice)
    assert rec.version == 2 and rec.manifest == {"v": 2}
    assert {k: store.read_blob(rec, k) for k in rec.blobs} == V2
    # The old version's secrets and flag went with it; the shared bias file stayed.
    assert store.get_secret("compact", alice, 1, "R") is None
    assert not store.is_provisioned("compact", alice, 1)
    assert not store.is_provisioned("compact", alice, 2)
    assert blob_files(path) == expected_files(V2)
    for name in blob_files(path):
        assert (path / "blobs" / name).read_bytes() in V2.values()


def test_models_are_per_user(store, alice):
    bob = store.register_user("bob", KEY_B)
    store.put_model("compact", alice, {"for": "alice"}, {"w": b"A"}, **by_owner())
    store.put_model("tiny", alice, {}, {"w": b"A2"}, **by_owner())
    store.put_model("compact", bob, {"for": "bob"}, {"w": b"B"}, **by_owner())
    assert store.get_model("tiny", bob) is None
    assert store.get_model("compact", bob).manifest == {"for": "bob"}
    assert store.get_model("compact", "f" * 64) is None
    assert [m.name for m in store.list_models(alice)] == ["compact", "tiny"]
    assert [m.manifest for m in store.list_models(bob)] == [{"for": "bob"}]
    assert store.put_model("compact", bob, {}, {"w": b"B2"}, **by_owner()) == 2    # versions are per user
    assert store.get_model("compact", alice).version == 1


def test_bad_requests_write_nothing(store, path, alice):
    with pytest.raises(StoreError, match="unknown user 000000000000"):
        store.put_model("compact", "0" * 64, {}, {"w": b"x"}, **by_owner())
    with pytest.raises(ValueError, match="manifest of model compact is not JSON"):
        store.put_model("compact", alice, {"x": object()}, {"w": b"x"}, **by_owner())
    with pytest.raises(ValueError, match="must be bytes"):
        store.put_model("compact", alice, {}, {"w": "text"}, **by_owner())
    with pytest.raises(StoreError, match="no model compact for user"):
        store.put_secret("compact", alice, 1, "R", b"x")
    assert blob_files(path) == set() and store.get_model("compact", alice) is None


def test_read_blob_detects_corruption(store, path, alice):
    store.put_model("compact", alice, {}, V1, **by_owner())
    rec = store.get_model("compact", alice)
    target = path / "blobs" / f"{sha(V1['w2'])}.blob"
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    assert store.read_blob(rec, "w1") == V1["w1"]
    with pytest.raises(StoreCorrupt, match=r"store corrupt: blob 'w2' of model compact v1 .*"
                                           r"SHA-256") as e:
        store.read_blob(rec, "w2")
    assert str(target) in str(e.value) and "\n" not in str(e.value)
    target.write_bytes(V1["w2"][:-1])
    with pytest.raises(StoreCorrupt, match=r"blob 'w2' .* has 21 bytes, expected 22"):
        store.read_blob(rec, "w2")
    target.unlink()
    with pytest.raises(StoreCorrupt, match=r"blob 'w2' .* is missing"):
        store.read_blob(rec, "w2")
    with pytest.raises(StoreError, match=r"blob 'nope' .* does not exist \(blobs: b, w1, w2\)"):
        store.read_blob(rec, "nope")


def test_stale_record_after_replacement(store, alice):
    store.put_model("compact", alice, {}, V1, **by_owner())
    old = store.get_model("compact", alice)
    store.put_model("compact", alice, {}, V2, **by_owner())
    assert store.read_blob(old, "b") == V1["b"]           # same content, still there
    with pytest.raises(StoreConflict, match="replaced while reading; fetch the model again"):
        store.read_blob(old, "w1")


# -- provisioning state ------------------------------------------------------------------------

def test_secrets_and_provisioning(store, path, alice):
    store.put_model("compact", alice, {}, {"w": b"x"}, **by_owner())
    bob = store.register_user("bob", KEY_B)
    store.put_secret("compact", alice, 1, "R", b"mask one")
    assert store.get_secret("compact", alice, 1, "R") == b"mask one"
    assert store.get_secret("compact", alice, 1, "other") is None
    assert store.get_secret("compact", alice, 2, "R") is None
    assert store.get_secret("compact", bob, 1, "R") is None
    store.put_secret("compact", alice, 1, "R", b"mask two")      # overwrite drops the old file
    assert store.get_secret("compact", alice, 1, "R") == b"mask two"
    assert blob_files(path) == expected_files({"w": b"x", "R": b"mask two"})
    assert mode(path / "blobs" / f"{sha(b'mask two')}.blob") == 0o600
    with pytest.raises(StoreConflict, match=r"model compact for user \w+ is at version 1, not 2"):
        store.put_secret("compact", alice, 2, "R", b"x")
    with pytest.raises(StoreConflict, match="at version 1, not 3"):
        store.mark_provisioned("compact", alice, 3)
    assert not store.is_provisioned("compact", alice, 1)
    store.mark_provisioned("compact", alice, 1)
    store.mark_provisioned("compact", alice, 1)                  # idempotent
    assert store.is_provisioned("compact", alice, 1)
    assert not store.is_provisioned("compact", bob, 1)
    target = path / "blobs" / f"{sha(b'mask two')}.blob"
    target.write_bytes(b"mask twO")
    with pytest.raises(StoreCorrupt, match="secret 'R' of model compact v1"):
        store.get_secret("compact", alice, 1, "R")


# -- usage -------------------------------------------------------------------------------------

def test_usage_window(store, alice):
    store.record_usage(alice, "compact", 10, at=100.0)
    store.record_usage(alice, "compact", 5, at=200.0)
    store.record_usage(alice, "tiny", 7, at=200.0)
    store.record_usage("other", "compact", 9, at=200.0)
    assert store.usage_since(alice, "compact", 0) == 15
    assert store.usage_since(alice, "compact", 100.0) == 15       # inclusive
    assert store.usage_since(alice, "compact", 100.5) == 5
    assert store.usage_since(alice, "compact", 201) == 0
    assert store.usage_since(alice, "tiny", 0) == 7
    assert store.prune_usage(before=150) == 1
    assert store.usage_since(alice, "compact", 0) == 5
    with pytest.raises(ValueError, match="non-negative integer"):
        store.record_usage(alice, "compact", -1, at=0)
