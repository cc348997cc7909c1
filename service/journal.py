"""The user's record of a denoising job in progress, so an interrupted job resumes.

An SQLite file next to the output (OUT.veil-journal): one row per finished batch (its index,
the SHA-256 of its input patches, the output accumulators), committed as each batch ends, so
a killed client or a lost server costs at most the batch in flight. The job's identity (image,
model, version, stride) is stored too: a journal of another job is discarded, never mixed in.
The output is deterministic (the protocol equals the plaintext reference bit for bit), so a
resumed job ends with the same image. The file is removed once the output is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import numpy as np


def digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a, dtype=np.int64)
    return hashlib.sha256(repr(a.shape).encode() + a.tobytes()).hexdigest()


class Journal:
    def __init__(self, path: str | os.PathLike, job: dict):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA synchronous=FULL")
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS job (identity TEXT NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS batches (idx INTEGER PRIMARY KEY, "
                            "input TEXT NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, "
                            "output BLOB NOT NULL)")
        identity = json.dumps(job, sort_keys=True)
        row = self.db.execute("SELECT identity FROM job").fetchone()
        self.discarded = row is not None and row[0] != identity
        if row is None or self.discarded:
            with self.db:
                self.db.execute("DELETE FROM job")
                self.db.execute("DELETE FROM batches")
                self.db.execute("INSERT INTO job VALUES (?)", (identity,))
        self.resumed = self.count()

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM batches").fetchone()[0]

    def get(self, idx: int, x: np.ndarray) -> np.ndarray | None:
        row = self.db.execute("SELECT input, rows, cols, output FROM batches WHERE idx = ?",
                              (idx,)).fetchone()
        if row is None or row[0] != digest(x):
            return None
        out = np.frombuffer(row[3], dtype=np.int64)
        if out.size != row[1] * row[2]:
            return None
        return out.reshape(row[1], row[2]).copy()

    def put(self, idx: int, x: np.ndarray, out: np.ndarray) -> None:
        out = np.ascontiguousarray(out, dtype=np.int64)
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?)",
                            (idx, digest(x), out.shape[0], out.shape[1], out.tobytes()))

    def close(self) -> None:
        self.db.close()

    def remove(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)
