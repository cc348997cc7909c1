"""The cloud's provisioning state of (model version, user): its secrets (stored as blobs
beside the model's) and the flag that says they were drawn. A mixin of Store: it uses the
store's blob writes and checked reads, so a secret is replaced and read like a model blob."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping

from veil.service.store_schema import (BlobRef, Pool, StoreConflict, StoreError, check_blobs,
                                       short_id, transaction)


class ProvisioningState:
    _pool: Pool

    def put_secret(self, name: str, user_id: str, version: int, key: str, data: bytes) -> None:
        self.put_secrets(name, user_id, version, {key: data})

    def put_secrets(self, name: str, user_id: str, version: int, secrets: Mapping[str, bytes],
                    *, provisioned: bool = False) -> None:
        """Store (or overwrite) secrets of the current version, and with `provisioned` mark
        it provisioned in the same transaction."""
        check_blobs("secret", secrets)

        def record(c: sqlite3.Connection, refs: dict[str, BlobRef]) -> tuple[None, list[str]]:
            model_id, old = self._current_id(c, name, user_id, version), []
            for key, ref in refs.items():
                row = c.execute("SELECT sha256 FROM blobs WHERE model_id = ? AND "
                                "kind = 'secret' AND key = ?", (model_id, key)).fetchone()
                old += row or []
                c.execute("INSERT OR REPLACE INTO blobs VALUES (?, 'secret', ?, ?, ?)",
                          (model_id, key, ref.sha256, ref.size))
            if provisioned:
                c.execute("INSERT OR IGNORE INTO provisioned VALUES (?, ?)",
                          (model_id, time.time()))
            return None, old

        self._write(secrets, record)

    def get_secret(self, name: str, user_id: str, version: int, key: str) -> bytes | None:
        """None when the secret, or that version of the model, does not exist."""
        with self._pool.connection() as c:
            row = c.execute(
                "SELECT b.sha256, b.size FROM blobs b JOIN models m ON m.id = b.model_id "
                "WHERE m.name = ? AND m.user_id = ? AND m.version = ? AND b.kind = 'secret' "
                "AND b.key = ?", (name, user_id, version, key)).fetchone()
        if row is None:
            return None
        what = f"secret {key!r} of model {name} v{version} (user {short_id(user_id)})"
        return self._read(BlobRef(*row), what, name, user_id, version)

    def mark_provisioned(self, name: str, user_id: str, version: int) -> None:
        with self._pool.connection() as c, transaction(c):
            model_id = self._current_id(c, name, user_id, version)
            c.execute("INSERT OR IGNORE INTO provisioned VALUES (?, ?)", (model_id, time.time()))

    def is_provisioned(self, name: str, user_id: str, version: int) -> bool:
        with self._pool.connection() as c:
            return c.execute("SELECT 1 FROM provisioned p JOIN models m ON m.id = p.model_id "
                             "WHERE m.name = ? AND m.user_id = ? AND m.version = ?",
                             (name, user_id, version)).fetchone() is not None

    @staticmethod
    def _current_id(c: sqlite3.Connection, name: str, user_id: str, version: int) -> int:
        row = c.execute("SELECT id, version FROM models WHERE name = ? AND user_id = ?",
                        (name, user_id)).fetchone()
        if row is None:
            raise StoreError(f"no model {name} for user {short_id(user_id)}")
        if row[1] != version:
            raise StoreConflict(f"model {name} for user {short_id(user_id)} is at version "
                                f"{row[1]}, not {version}")
        return row[0]
