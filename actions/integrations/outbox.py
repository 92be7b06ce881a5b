"""Work that could not be done now (a calendar or CRM down), kept on disk to be retried.

Nothing a customer gave is lost: the request is written here before the customer is told
it will be confirmed later, and `pending()` hands it to whoever retries it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(
                """CREATE TABLE IF NOT EXISTS outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                    payload TEXT NOT NULL, reason TEXT, created TEXT NOT NULL,
                    done INTEGER NOT NULL DEFAULT 0)"""
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def put(self, kind: str, payload: dict[str, Any], reason: str = "") -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO outbox (kind, payload, reason, created) VALUES (?, ?, ?, ?)",
                (
                    kind,
                    json.dumps(payload, default=str),
                    reason,
                    dt.datetime.now(dt.UTC).isoformat(),
                ),
            )
            return int(cursor.lastrowid or 0)

    def pending(self, kind: str) -> list[tuple[int, dict[str, Any]]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, payload FROM outbox WHERE kind = ? AND done = 0 ORDER BY id", (kind,)
            ).fetchall()
        return [(int(r[0]), json.loads(r[1])) for r in rows]

    def done(self, item_id: int) -> None:
        with self._connect() as db:
            db.execute("UPDATE outbox SET done = 1 WHERE id = ?", (item_id,))
