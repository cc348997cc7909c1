"""The store's usage records: patches per user and model over time, for the rate limit
(ratelimit.py). A mixin of Store: it needs only the connection pool."""
from __future__ import annotations

import sqlite3

from veil.service.store_schema import Pool, Reservation, transaction


def _check_patches(patches: int) -> None:
    if not isinstance(patches, int) or patches < 0:
        raise ValueError(f"patches must be a non-negative integer, got {patches!r}")


class UsageRecords:
    _pool: Pool

    def record_usage(self, user_id: str, model_name: str, patches: int, at: float) -> None:
        _check_patches(patches)
        with self._pool.connection() as c, transaction(c):
            c.execute("INSERT INTO usage VALUES (?, ?, ?, ?)",
                      (user_id, model_name, patches, float(at)))

    def usage_since(self, user_id: str, model_name: str, since: float) -> int:
        """Patches recorded at or after `since`."""
        with self._pool.connection() as c:
            return self._usage(c, user_id, model_name, since)

    def reserve_usage(self, user_id: str, model_name: str, patches: int, at: float,
                      since: float, limit: int) -> Reservation:
        """Record the usage only if the usage since `since` plus `patches` stays within
        `limit`: the check and the record are one transaction."""
        _check_patches(patches)
        with self._pool.connection() as c, transaction(c):
            used = self._usage(c, user_id, model_name, since)
            if used + patches > limit:
                entries = c.execute("SELECT at, patches FROM usage WHERE user_id = ? AND "
                                    "model_name = ? AND at >= ? ORDER BY at",
                                    (user_id, model_name, since)).fetchall()
                return Reservation(False, used, tuple(map(tuple, entries)))
            c.execute("INSERT INTO usage VALUES (?, ?, ?, ?)",
                      (user_id, model_name, patches, float(at)))
            return Reservation(True, used)

    def prune_usage(self, before: float) -> int:
        """Forget usage recorded before `before` (no window reaches back that far); returns
        the number of records removed."""
        with self._pool.connection() as c, transaction(c):
            return c.execute("DELETE FROM usage WHERE at < ?", (before,)).rowcount

    @staticmethod
    def _usage(c: sqlite3.Connection, user_id: str, model_name: str, since: float) -> int:
        return c.execute("SELECT COALESCE(SUM(patches), 0) FROM usage WHERE user_id = ? AND "
                         "model_name = ? AND at >= ?", (user_id, model_name, since)).fetchone()[0]
