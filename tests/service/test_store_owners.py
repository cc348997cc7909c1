"""The store's owners: allowed keys, names held by their first owner, counters that only go up
(checked in the transaction that stores a version), allowing an owner while the store is
open elsewhere, and a schema-1 store refused in one line."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from veil.service.store import PublishRefused, Store, StoreError
from veil.service.store_owners import allow_owner, list_owners

from .store_testkit import alice, path, store  # noqa: F401  (fixtures)
from .store_testkit import OWNER, OWNER_KEY, blob_files, sha

OTHER_KEY = bytes(range(1, 33))
OTHER = sha(OTHER_KEY)


def test_allow_is_idempotent_and_listed(store):
    assert store.owner(OTHER) is None
    rec = store.allow_owner(OTHER_KEY, "other")
    assert (rec.owner_id, rec.public_key, rec.label, rec.models) == (OTHER, OTHER_KEY, "other", 0)
    assert store.allow_owner(OTHER_KEY, "renamed").label == "other"
    assert [o.owner_id for o in store.owners()] == [OWNER, OTHER]
    with pytest.raises(StoreError, match="label must be 1 to 64 printable"):
        store.allow_owner(bytes(32), "bad\nlabel")


def test_unknown_owner_writes_nothing(store, path, alice):
    with pytest.raises(PublishRefused, match=f"owner key {OTHER} is not allowed"):
        store.put_model("m", alice, {}, {"w": b"x"}, owner_id=OTHER, counter=1)
    assert store.get_model("m", alice) is None and blob_files(path) == set()


def test_a_name_stays_with_its_first_owner(store, path, alice):
    bob = store.register_user("bob", b"bob public key")
    store.allow_owner(OTHER_KEY, "other")
    store.put_model("m", alice, {"by": "owner"}, {"w": b"x"}, owner_id=OWNER, counter=1)
    for user in (alice, bob):
        with pytest.raises(PublishRefused, match="model name 'm' belongs to another owner"):
            store.check_publish("m", user, OTHER, 5)
        with pytest.raises(PublishRefused, match="model name 'm' belongs to another owner"):
            store.put_model("m", user, {"by": "other"}, {"w": b"y"}, owner_id=OTHER, counter=5)
    rec = store.get_model("m", alice)
    assert (rec.version, rec.owner_id, rec.manifest) == (1, OWNER, {"by": "owner"})
    assert store.get_model("m", bob) is None
    assert blob_files(path) == {f"{sha(b'x')}.blob"}
    assert {o.owner_id: o.models for o in store.owners()} == {OWNER: 1, OTHER: 0}


def test_counter_must_grow_per_name_and_user(store, alice):
    bob = store.register_user("bob", b"bob public key")
    store.put_model("m", alice, {}, {"w": b"1"}, owner_id=OWNER, counter=10)
    for stale in (10, 9):
        with pytest.raises(PublishRefused, match=f"counter {stale} of model 'm' is not newer "
                                                 "than the current version's 10"):
            store.put_model("m", alice, {}, {"w": b"2"}, owner_id=OWNER, counter=stale)
    store.check_publish("m", alice, OWNER, 11)
    assert store.put_model("m", alice, {}, {"w": b"3"}, owner_id=OWNER, counter=11) == 2
    assert store.put_model("m", bob, {}, {"w": b"4"}, owner_id=OWNER, counter=3) == 1
    assert store.get_model("m", alice).counter == 11


def test_two_owners_racing_for_a_new_name(store, alice):
    store.allow_owner(OTHER_KEY, "other")
    results = {}

    def publish(owner):
        try:
            store.put_model("race", alice, {}, {"w": owner.encode()}, owner_id=owner, counter=1)
            results[owner] = "won"
        except PublishRefused:
            results[owner] = "refused"

    threads = [threading.Thread(target=publish, args=(o,)) for o in (OWNER, OTHER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["refused", "won"]
    winner = next(o for o, r in results.items() if r == "won")
    assert store.get_model("race", alice).owner_id == winner


def test_allow_owner_while_the_store_is_open(path):
    with pytest.raises(StoreError, match="no store at"):
        list_owners(path)
    with Store.open(path) as running:                     # holds the exclusive lock
        rec, new = allow_owner(path, OTHER_KEY, "late")
        assert new and running.owner(OTHER) == rec
        assert allow_owner(path, OTHER_KEY, "again") == (rec, False)
    assert [o.label for o in list_owners(path)] == ["late"]


def test_schema_1_store_is_refused_in_one_line(path):
    path.mkdir()
    db = sqlite3.connect(path / "store.sqlite3")
    db.executescript("CREATE TABLE schema_version (version INTEGER NOT NULL);"
                     "INSERT INTO schema_version VALUES (1);")
    db.close()
    with pytest.raises(StoreError, match=r"schema version 1 has no migration to version 2: its "
                                         "models were published unsigned") as e:
        Store.open(path)
    assert "\n" not in str(e.value)
    with pytest.raises(StoreError, match="schema version 1"):
        allow_owner(path, OWNER_KEY, "x")
