"""The cloud's persistent store: users, models encrypted for one user, provisioning state, usage.

On disk, in a folder of mode 0700:
    store.sqlite3 (+ -wal, -shm)   users, allowed owners and the names they hold, current
                                   model versions, blob index, usage (0600)
    blobs/<sha256>.blob            ciphertext blobs and provisioning secrets (0600)
    store.lock                     flock'ed while a Store is open

Replacing a model or a secret: blobs are written and fsynced first, then one transaction
switches the database to them, and only after the commit are files no row uses deleted. A
crash anywhere leaves the old state or the new one; `Store.open` removes the leftovers. A
folder is open in one Store at a time, because that sweep and the deletions assume no other
writer; the Store itself may be shared by any number of threads.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from veil.service import store_owners
from veil.service.store_blobs import BlobDir, StoreCorrupt
from veil.service.store_owners import PublishRefused
from veil.service.store_schema import (
    DATABASE, BlobRef, ModelRecord, OwnerRecord, Pool, Reservation, StoreConflict, StoreError,
    UserRecord, check_blobs, check_name, connect, init_schema, short_id, transaction)
from veil.service.store_secrets import ProvisioningState
from veil.service.store_usage import UsageRecords

__all__ = ["Store", "StoreError", "StoreCorrupt", "StoreConflict", "UserRecord", "ModelRecord",
           "OwnerRecord", "BlobRef", "Reservation", "PublishRefused"]

class Store(ProvisioningState, UsageRecords):
    def __init__(self, directory: Path, lock_fd: int, pool: Pool, blobs: BlobDir):
        self.directory = directory
        self._lock_fd = lock_fd
        self._pool = pool
        self._blobs = blobs
        # Held from writing blob files to deleting unused ones, so a deletion never hits a file
        # another thread has just written for a transaction it has not committed yet.
        self._files = threading.Lock()

    @classmethod
    def open(cls, directory: str | os.PathLike) -> Store:
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise StoreError(f"{directory} is not a folder")
        if not directory.is_dir():
            directory.mkdir(mode=0o700, parents=True)
            os.chmod(directory, 0o700)             # mkdir's mode is filtered by the umask
        lock_fd = os.open(directory / "store.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise StoreError(f"store {directory} is already open (in this or another process)")
        try:
            path = directory / DATABASE
            try:
                conn = connect(path)
                try:
                    os.chmod(path, 0o600)          # -wal and -shm inherit the database's mode
                    init_schema(conn, path)
                    used = {r[0] for r in conn.execute("SELECT DISTINCT sha256 FROM blobs")}
                finally:
                    conn.close()
            except sqlite3.DatabaseError as e:
                raise StoreError(f"{path}: cannot use the database: {e}") from None
            blobs = BlobDir(directory / "blobs")
            blobs.sweep(used.__contains__)
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(directory, lock_fd, Pool(path), blobs)

    def close(self) -> None:
        if self._lock_fd >= 0:
            self._pool.close()
            os.close(self._lock_fd)                # releases the flock
            self._lock_fd = -1

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- users -------------------------------------------------------------------------------

    def register_user(self, name: str, public_key: bytes) -> str:
        """Idempotent for the same (name, key); returns the user id, SHA-256 of the key."""
        check_name("user name", name)
        if not isinstance(public_key, (bytes, bytearray)) or not public_key:
            raise ValueError("public key must be non-empty bytes")
        user_id = hashlib.sha256(public_key).hexdigest()
        with self._pool.connection() as c, transaction(c):
            row = c.execute("SELECT user_id FROM users WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if row[0] != user_id:
                    raise StoreConflict(f"user {name} is already registered with a different "
                                        "public key")
                return user_id
            row = c.execute("SELECT name FROM users WHERE user_id = ?", (user_id,)).fetchone()
            if row is not None:
                raise StoreConflict(f"this public key is already registered as user {row[0]}")
            c.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                      (user_id, name, bytes(public_key), time.time()))
        return user_id

    def user(self, user_id: str) -> UserRecord | None:
        return self._user("user_id", user_id)

    def user_by_name(self, name: str) -> UserRecord | None:
        return self._user("name", name)

    def _user(self, column: str, value: str) -> UserRecord | None:
        with self._pool.connection() as c:
            row = c.execute("SELECT user_id, name, public_key, created_at FROM users "
                            f"WHERE {column} = ?", (value,)).fetchone()
        return None if row is None else UserRecord(row[0], row[1], bytes(row[2]), row[3])

    # -- owners ------------------------------------------------------------------------------

    def allow_owner(self, public_key: bytes, label: str) -> OwnerRecord:
        with self._pool.connection() as c, transaction(c):
            return store_owners.allow(c, public_key, label)[0]

    def owner(self, owner_id: str) -> OwnerRecord | None:
        with self._pool.connection() as c:
            return store_owners.owner(c, owner_id)

    def owners(self) -> list[OwnerRecord]:
        with self._pool.connection() as c:
            return store_owners.owners(c)

    def check_publish(self, name: str, user_id: str, owner_id: str, counter: int) -> None:
        """PublishRefused if put_model would refuse this owner and counter now (put_model
        checks again when it commits)."""
        with self._pool.connection() as c:
            store_owners.authorise(c, name, user_id, owner_id, counter, claim=False)

    # -- models ------------------------------------------------------------------------------

    def put_model(self, name: str, user_id: str, manifest: dict, blobs: Mapping[str, bytes],
                  *, owner_id: str, counter: int) -> int:
        """Publish a new version of model `name` for `user_id`, signed by `owner_id` with
        publish counter `counter`, replacing the current one with its secrets and provisioning
        flag; returns the new version number. PublishRefused when the owner may not
        (store_owners.authorise, checked in the same transaction)."""
        check_name("model name", name)
        check_blobs("blob", blobs)
        if not isinstance(manifest, dict):
            raise ValueError(f"manifest of model {name} must be a dict")
        try:
            manifest_json = json.dumps(manifest, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"manifest of model {name} is not JSON: {e}") from None
        if self.user(user_id) is None:             # checked again in the transaction
            raise StoreError(f"unknown user {short_id(user_id)}")

        def record(c: sqlite3.Connection, refs: dict[str, BlobRef]) -> tuple[int, list[str]]:
            if c.execute("SELECT 1 FROM users WHERE user_id = ?", (user_id,)).fetchone() is None:
                raise StoreError(f"unknown user {short_id(user_id)}")
            store_owners.authorise(c, name, user_id, owner_id, counter, claim=True)
            row = c.execute("SELECT id, version FROM models WHERE name = ? AND user_id = ?",
                            (name, user_id)).fetchone()
            version, old = 1, []
            if row is not None:
                old = [r[0] for r in c.execute("SELECT sha256 FROM blobs WHERE model_id = ?",
                                               (row[0],))]
                # Cascades to the old version's blob rows, secrets and provisioning flag.
                c.execute("DELETE FROM models WHERE id = ?", (row[0],))
                version = row[1] + 1
            model_id = c.execute(
                "INSERT INTO models (name, user_id, version, manifest, created_at, owner_id, "
                "counter) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, user_id, version, manifest_json, time.time(), owner_id,
                 counter)).lastrowid
            c.executemany("INSERT INTO blobs VALUES (?, 'model', ?, ?, ?)",
                          [(model_id, k, r.sha256, r.size) for k, r in refs.items()])
            return version, old

        return self._write(blobs, record)

    def _write(self, blobs: Mapping[str, bytes], record: Callable):
        """Blob files first, then `record(conn, refs) -> (result, old sha256s)` in one
        transaction, then the files neither the new nor any other row uses."""
        with self._files:
            refs = self._blobs.write_all(blobs, self._in_use)
            try:
                with self._pool.connection() as c, transaction(c):
                    result, old = record(c, refs)
            except BaseException:
                self._blobs.remove_unused((r.sha256 for r in refs.values()), self._in_use)
                raise
            self._blobs.remove_unused(old, self._in_use)
        return result

    def get_model(self, name: str, user_id: str) -> ModelRecord | None:
        records = self._models("name = ? AND user_id = ?", (name, user_id))
        return records[0] if records else None

    def served_model(self, name: str, user_id: str) -> ModelRecord | None:
        """The model the cloud serves under `name` to `user_id`: None also when the owner
        that signed it has been disallowed since (store_owners.disallow)."""
        rec = self.get_model(name, user_id)
        return rec if rec is not None and self.owner(rec.owner_id) is not None else None

    def list_models(self, user_id: str) -> list[ModelRecord]:
        return self._models("user_id = ?", (user_id,))

    def _models(self, where: str, args: tuple) -> list[ModelRecord]:
        with self._pool.connection() as c:
            c.execute("BEGIN")                     # one snapshot of the models and their blobs
            rows = c.execute("SELECT id, name, user_id, version, manifest, created_at, owner_id, "
                             f"counter FROM models WHERE {where} ORDER BY name", args).fetchall()
            records = []
            for model_id, name, user_id, version, manifest, created_at, owner, counter in rows:
                blobs = {k: BlobRef(h, s) for k, h, s in c.execute(
                    "SELECT key, sha256, size FROM blobs WHERE model_id = ? AND kind = 'model' "
                    "ORDER BY key", (model_id,))}
                records.append(ModelRecord(name, user_id, version, json.loads(manifest),
                                           created_at, MappingProxyType(blobs), owner, counter))
            c.execute("COMMIT")
        return records

    def read_blob(self, record: ModelRecord, key: str) -> bytes:
        """The blob's bytes, checked against the SHA-256 and size recorded for it."""
        what = f"blob {key!r} of model {record.name} v{record.version} " \
               f"(user {short_id(record.user_id)})"
        if key not in record.blobs:
            raise StoreError(f"{what} does not exist (blobs: {', '.join(record.blobs) or 'none'})")
        return self._read(record.blobs[key], what, record.name, record.user_id, record.version)

    def _read(self, ref: BlobRef, what: str, name: str, user_id: str, version: int) -> bytes:
        try:
            return self._blobs.read(ref, what)
        except FileNotFoundError:
            current = self.get_model(name, user_id)
            if current is None or current.version != version:
                raise StoreConflict(f"{what}: that version was replaced while reading; "
                                    "fetch the model again") from None
            raise StoreCorrupt(f"store corrupt: {what}: file "
                               f"{self._blobs.file(ref.sha256)} is missing") from None

    def _in_use(self, sha256: str) -> bool:
        with self._pool.connection() as c:
            return c.execute("SELECT 1 FROM blobs WHERE sha256 = ? LIMIT 1",
                             (sha256,)).fetchone() is not None
