"""The cloud store's SQLite database: schema, the records read from it, version check,
connections, transactions.

Connections come from a small pool rather than one per thread: a server that starts a thread
per request would otherwise leave a connection (and its file descriptors) behind each thread
until the cyclic garbage collector happens to run. A pooled connection is used by one thread
at a time; writers serialise on SQLite's own lock (BEGIN IMMEDIATE + busy timeout).
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from veil.util.errors import ServiceError

SCHEMA_VERSION = 2
DATABASE = "store.sqlite3"
BUSY_TIMEOUT_MS = 30_000
IDLE_CONNECTIONS = 8


class StoreError(ServiceError):
    """A store operation that cannot be done, with a one-line reason. Not sent to a peer:
    its message may name the server's files (error_frames.meant_for_peer)."""


class StoreConflict(StoreError):
    """The request contradicts the stored state (a name taken, a version replaced)."""


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    size: int


@dataclass(frozen=True)
class UserRecord:
    user_id: str                                # hex SHA-256 of public_key
    name: str
    public_key: bytes
    created_at: float


@dataclass(frozen=True)
class ModelRecord:
    name: str
    user_id: str
    version: int
    manifest: dict
    created_at: float
    blobs: Mapping[str, BlobRef]                # key -> content address, read-only
    owner_id: str                               # the owner whose signed manifest this is
    counter: int                                # its publish counter (manifest.py: replay)


@dataclass(frozen=True)
class OwnerRecord:
    owner_id: str                               # hex SHA-256 of public_key
    public_key: bytes                           # raw Ed25519, 32 bytes
    label: str
    allowed_at: float
    models: int = 0                             # model names it holds
    revoked_at: float | None = None             # disallowed since (store_owners.disallow)


@dataclass(frozen=True)
class Reservation:
    """The outcome of a conditional usage record: `used` is the window's usage before the
    request; `entries` its (at, patches) records, oldest first, given only when refused."""
    granted: bool
    used: int
    entries: tuple[tuple[float, int], ...] = ()


MAX_NAME = 128


def check_name(what: str, name: str) -> None:
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME or not name.isprintable():
        raise ValueError(f"{what} must be 1 to {MAX_NAME} printable characters, got {name!r:.60}")


def check_blobs(what: str, blobs: Mapping[str, bytes]) -> None:
    for key, data in blobs.items():
        check_name(f"{what} key", key)
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError(f"{what} {key!r} must be bytes, got {type(data).__name__}")


def short_id(user_id: str) -> str:
    return user_id[:12]


_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE users (
    user_id    TEXT PRIMARY KEY,            -- hex SHA-256 of public_key
    name       TEXT NOT NULL UNIQUE,
    public_key BLOB NOT NULL,
    created_at REAL NOT NULL);
CREATE TABLE owners (                       -- the owner keys the operator allowed
    owner_id   TEXT PRIMARY KEY,            -- hex SHA-256 of public_key
    public_key BLOB NOT NULL,               -- raw Ed25519
    label      TEXT NOT NULL,
    allowed_at REAL NOT NULL,
    revoked_at REAL);                       -- set by disallow-owner, cleared by allow-owner
CREATE TABLE model_names (                  -- a name belongs to the owner that first used it
    name       TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES owners(owner_id),
    claimed_at REAL NOT NULL);
CREATE TABLE models (                       -- the current version of (name, user_id) only
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL REFERENCES model_names(name),
    user_id    TEXT NOT NULL REFERENCES users(user_id),
    version    INTEGER NOT NULL,
    manifest   TEXT NOT NULL,               -- JSON: the signed manifest
    created_at REAL NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES owners(owner_id),
    counter    INTEGER NOT NULL,            -- the signed publish counter: only a larger replaces
    UNIQUE (name, user_id));
CREATE TABLE blobs (                        -- files in blobs/, named <sha256>.blob
    model_id   INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('model', 'secret')),
    key        TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (model_id, kind, key));
CREATE INDEX blobs_by_sha256 ON blobs(sha256);
CREATE TABLE provisioned (
    model_id   INTEGER PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
    at         REAL NOT NULL);
CREATE TABLE usage (
    user_id    TEXT NOT NULL,
    model_name TEXT NOT NULL,
    patches    INTEGER NOT NULL,
    at         REAL NOT NULL);
CREATE INDEX usage_window ON usage(user_id, model_name, at);
"""


_NO_MIGRATION = {
    1: "its models were published unsigned, and no owner can be vouched for them; start a "
       "new store, allow the owners (veil cloud allow-owner) and publish again",
}


def connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; every write says BEGIN IMMEDIATE itself.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # FULL, not NORMAL: blob files are deleted right after a commit, so a commit that a
        # power loss could undo would leave the database pointing at deleted files.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def commit(conn: sqlite3.Connection) -> None:
    """A module-level function so tests can make the commit fail."""
    conn.execute("COMMIT")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection):
    """BEGIN IMMEDIATE takes the write lock at once, so a read-check-write inside cannot
    interleave with another writer."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        commit(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def init_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema in an empty database, or check the version of an existing one."""
    if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
        raise StoreError(f"{path}: cannot switch the database to WAL mode")
    # executescript would commit on its own, so the schema runs statement by statement inside
    # one transaction: a crash while creating it leaves an empty database, never half a schema.
    with transaction(conn):
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            return
        if "schema_version" not in tables:
            raise StoreError(f"{path}: not a veil store database (no schema_version table)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else None
    if version is None:
        raise StoreError(f"{path}: schema_version table is empty")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: store schema version {version} is newer than this veil "
                         f"supports ({SCHEMA_VERSION}); upgrade veil")
    if version < SCHEMA_VERSION:
        raise StoreError(f"{path}: store schema version {version} has no migration to "
                         f"version {SCHEMA_VERSION}: {_NO_MIGRATION.get(version, 'too old')}")


class Pool:
    """Connections handed to one thread at a time; at most IDLE_CONNECTIONS kept open."""

    def __init__(self, path: Path):
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def connection(self):
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.path}: store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = connect(self.path)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            with self._lock:
                keep = not self._closed and len(self._idle) < IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def close(self) -> None:
        """Close idle connections now; connections in use close when they are handed back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
