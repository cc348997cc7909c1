"""The store's owners: the keys the operator allowed, the model names each one holds, and the
check that decides whether a signed publish may replace what is stored.

A publish is authorised inside the transaction that stores it (`authorise` with claim=True):
the signing key must be allowed, the name must be free or already this owner's (a name
belongs to the owner that first published it), and the signed counter must exceed that of
the version it replaces (a replayed manifest cannot roll a model back: manifest.py).

Allowing an owner touches no blob file, so `allow_owner` and `list_owners` open the database
directly, without the store's exclusive lock: the operator can allow an owner while the cloud
runs, and the cloud sees it at the next publish (it reads the owners table every time).

Disallowing (revoking) an owner marks its row, and `owner` no longer finds it: it can no
longer publish, and the cloud stops serving the models it signed (a user asking for one is
answered as for a pair the cloud does not serve). The names it holds stay held by its key, so
no other owner can take them over; allowing the key again restores all of it.
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from veil.service.store_schema import (DATABASE, OwnerRecord, StoreError, connect, init_schema,
                                       transaction)
from veil.service.owner_keys import fingerprint
from veil.util.errors import ServiceError

MAX_LABEL = 64
_SELECT = ("SELECT o.owner_id, o.public_key, o.label, o.allowed_at, COUNT(n.name), o.revoked_at "
           "FROM owners o LEFT JOIN model_names n ON n.owner_id = o.owner_id")


class PublishRefused(ServiceError):
    """A signed publish the store's state forbids; the message is for the owner."""


def _record(row) -> OwnerRecord:
    return OwnerRecord(row[0], bytes(row[1]), row[2], row[3], row[4], row[5])


def owner(c: sqlite3.Connection, owner_id: str, revoked: bool = False) -> OwnerRecord | None:
    """The allowed owner `owner_id` (with `revoked`, also one disallowed since), or None."""
    row = c.execute(f"{_SELECT} WHERE o.owner_id = ? GROUP BY o.owner_id",
                    (owner_id,)).fetchone()
    if row is None or (row[5] is not None and not revoked):
        return None
    return _record(row)


def owners(c: sqlite3.Connection) -> list[OwnerRecord]:
    return [_record(r) for r in c.execute(f"{_SELECT} GROUP BY o.owner_id ORDER BY o.allowed_at")]


def allow(c: sqlite3.Connection, public_key: bytes, label: str) -> tuple[OwnerRecord, bool]:
    """(the owner, whether it is newly allowed: a new key or a revoked one restored); in the
    caller's transaction. The label of a key already known is kept."""
    if len(public_key) != 32:
        raise ValueError("an owner key is 32 bytes")
    if not 0 < len(label) <= MAX_LABEL or not label.isprintable():
        raise StoreError(f"owner label must be 1 to {MAX_LABEL} printable characters")
    owner_id = fingerprint(public_key)
    existing = owner(c, owner_id, revoked=True)
    if existing is not None and existing.revoked_at is None:
        return existing, False
    if existing is not None:
        c.execute("UPDATE owners SET revoked_at = NULL WHERE owner_id = ?", (owner_id,))
    else:
        c.execute("INSERT INTO owners VALUES (?, ?, ?, ?, NULL)",
                  (owner_id, bytes(public_key), label, time.time()))
    return owner(c, owner_id), True


def disallow(c: sqlite3.Connection, owner_id: str) -> OwnerRecord | None:
    """Revoke an allowed owner; the record it had, or None if it was not allowed. In the
    caller's transaction."""
    existing = owner(c, owner_id)
    if existing is not None:
        c.execute("UPDATE owners SET revoked_at = ? WHERE owner_id = ?", (time.time(), owner_id))
    return existing


def authorise(c: sqlite3.Connection, name: str, user_id: str, owner_id: str, counter: int,
              claim: bool) -> None:
    """PublishRefused unless `owner_id` may publish `name` for `user_id` with `counter`; with
    `claim`, a free name becomes this owner's."""
    if owner(c, owner_id) is None:
        raise PublishRefused(f"owner key {owner_id} is not allowed on this cloud (its operator "
                             "allows owners with veil cloud allow-owner)")
    row = c.execute("SELECT owner_id FROM model_names WHERE name = ?", (name,)).fetchone()
    if row is None and claim:
        c.execute("INSERT INTO model_names VALUES (?, ?, ?)", (name, owner_id, time.time()))
    elif row is not None and row[0] != owner_id:
        raise PublishRefused(f"model name {name!r} belongs to another owner: choose another "
                             "name")
    row = c.execute("SELECT counter FROM models WHERE name = ? AND user_id = ?",
                    (name, user_id)).fetchone()
    if row is not None and counter <= row[0]:
        raise PublishRefused(f"publish counter {counter} of model {name!r} is not newer than "
                             f"the current version's {row[0]}: a replayed or out-of-date "
                             "manifest (or the owner's clock went back)")


def _database(directory: str | os.PathLike, create: bool) -> tuple[sqlite3.Connection, Path]:
    directory = Path(directory)
    path = directory / DATABASE
    if not path.is_file():
        if not create:
            raise StoreError(f"no store at {directory}")
        if not directory.is_dir():
            directory.mkdir(mode=0o700, parents=True)
            os.chmod(directory, 0o700)             # mkdir's mode is filtered by the umask
    try:
        conn = connect(path)
        try:
            os.chmod(path, 0o600)
            init_schema(conn, path)
        except BaseException:
            conn.close()
            raise
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: cannot use the database: {e}") from None
    return conn, path


def allow_owner(directory: str | os.PathLike, public_key: bytes,
                label: str) -> tuple[OwnerRecord, bool]:
    """Allow an owner key in the store at `directory` (created if need be), running or not."""
    conn, _ = _database(directory, create=True)
    try:
        with transaction(conn):
            return allow(conn, public_key, label)
    finally:
        conn.close()


def disallow_owner(directory: str | os.PathLike, owner_id: str) -> OwnerRecord | None:
    """Revoke the owner with fingerprint `owner_id` in the store at `directory`, running or
    not; the record it had, or None if it was not allowed."""
    conn, _ = _database(directory, create=False)
    try:
        with transaction(conn):
            return disallow(conn, owner_id)
    finally:
        conn.close()


def list_owners(directory: str | os.PathLike) -> list[OwnerRecord]:
    conn, _ = _database(directory, create=False)
    try:
        return owners(conn)
    finally:
        conn.close()
