"""`KeyStore` in the embedded SQLite file (the local stack's authorizer and `enrich keys`).

One row per key, looked up by its SHA-256 (the primary key); indexes stand in for the DynamoDB store's
second row per key (listing by workspace, revoking by id), so there is nothing to keep in step and no
transaction spanning two rows. Times are fixed-width UTC ISO 8601 text, so string order is time order and
a listing sorts in SQL. The key itself is never stored.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from leadenrich.auth.keys import ApiKey
from leadenrich.sqlite.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash     TEXT PRIMARY KEY,
    key_id       TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_by_workspace ON api_keys (workspace_id, created_at, key_id);
CREATE INDEX IF NOT EXISTS api_keys_by_age ON api_keys (created_at, key_id);
"""


def _ts(value: datetime) -> str:
    """Fixed-width UTC ISO 8601 (a naive datetime is taken as UTC), as the DynamoDB store writes them."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _from_row(row: sqlite3.Row) -> ApiKey:
    revoked_at = row["revoked_at"]
    return ApiKey(
        key_id=row["key_id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=datetime.fromisoformat(row["created_at"]),
        revoked_at=datetime.fromisoformat(revoked_at) if revoked_at else None,
    )


class SqliteKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("api_keys", _SCHEMA)

    async def put(self, key: ApiKey, key_hash: str) -> None:
        """Store a new key; `sqlite3.IntegrityError` if its hash or id is taken (nothing is overwritten)."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO api_keys (key_hash, key_id, workspace_id, name, prefix, created_at, revoked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key_hash,
                    key.key_id,
                    key.workspace_id,
                    key.name,
                    key.prefix,
                    _ts(key.created_at),
                    _ts(key.revoked_at) if key.revoked_at else None,
                ),
            )

    async def resolve(self, key_hash: str) -> ApiKey | None:
        row = self._db.read().execute("SELECT * FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
        return _from_row(row) if row else None

    async def list_keys(self, workspace_id: str | None = None) -> list[ApiKey]:
        """A workspace's keys (every workspace's with None), oldest first (ties by id, as DynamoDB's)."""
        if workspace_id is None:
            rows = self._db.read().execute("SELECT * FROM api_keys ORDER BY created_at, key_id")
        else:
            rows = self._db.read().execute(
                "SELECT * FROM api_keys WHERE workspace_id = ? ORDER BY created_at, key_id",
                (workspace_id,),
            )
        return [_from_row(row) for row in rows.fetchall()]

    async def revoke(self, key_id: str, now: datetime) -> ApiKey | None:
        """Mark the key revoked once (a second revocation keeps the first time); None if unknown. One
        statement: concurrent revocations are serialised by SQLite and all report the first time."""
        with self._db.write() as conn:
            rows = conn.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ? RETURNING *",
                (_ts(now), key_id),
            ).fetchall()  # read to the end inside the block: the statement must finish before COMMIT
        return _from_row(rows[0]) if rows else None


__all__ = ["SqliteKeyStore"]
