"""`CachePort` in the embedded SQLite file, so paid answers survive a restart of the local stack and are
shared by its API, processor and command line, as the DynamoDB cache shares them between Lambdas.

One row per key: the value as a JSON string (floats and nesting come back exactly) and `expires_at`, wall
clock epoch seconds (a monotonic clock restarts with the process; the file does not). `get` treats an expired
row as missing, as the DynamoDB adapter does before its TTL deletes the row; nothing deletes rows behind the
caller's back here, so `purge_expired()` is there for whoever owns the file (the local stack at start).

Values are refused above `MAX_VALUE_BYTES`, DynamoDB's limit, although SQLite would take far more: a value
the deployed cache would refuse must fail on a laptop too, not first in production.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from leadenrich.sqlite.db import Database

MAX_VALUE_BYTES = 350 * 1024  # the same as `leadenrich.aws.dynamo_cache.MAX_VALUE_BYTES`

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (
    key        TEXT PRIMARY KEY,
    payload    TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS cache_by_expiry ON cache (expires_at);
"""


class SqliteCache:
    """See the module docstring. `clock` is wall time (epoch seconds); tests inject their own."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        db.ensure_schema("cache", _SCHEMA)

    async def get(self, key: str) -> dict[str, Any] | None:
        """The value, or None when absent, expired (even if not yet purged) or unreadable."""
        row = (
            self._db.read()
            .execute("SELECT payload FROM cache WHERE key = ? AND expires_at > ?", (key, self._clock()))
            .fetchone()
        )
        if row is None:
            return None
        try:
            value = json.loads(row["payload"])
        except ValueError:
            return None  # a row we cannot read is a miss, not an error: the paid call refills it
        return value if isinstance(value, dict) else None

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        """Write (or overwrite) the entry, to expire `ttl_seconds` from now.

        ValueError for a value over `MAX_VALUE_BYTES` as UTF-8 JSON (see the module docstring)."""
        payload = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        size = len(payload.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise ValueError(f"cache value for {key!r}: {size} bytes as JSON, more than {MAX_VALUE_BYTES}")
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO cache (key, payload, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
                " SET payload = excluded.payload, expires_at = excluded.expires_at",
                (key, payload, self._clock() + ttl_seconds),
            )

    def purge_expired(self) -> int:
        """Delete the expired rows (they are misses already); returns how many went."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM cache WHERE expires_at <= ?", (self._clock(),)).rowcount


__all__ = ["MAX_VALUE_BYTES", "SqliteCache"]
