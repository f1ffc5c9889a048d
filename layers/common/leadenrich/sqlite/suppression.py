"""`SuppressionList` in the embedded SQLite file: one row per workspace and identity key, the service-wide
list under the workspace id `*` (`privacy.ports.SERVICE_WIDE`).

A row holds the identity's key (a keyed hash for an address or a person, `d:` + the domain for a domain),
its kind, its masked label, why it was added and when: never an address or a name in clear. Adding is
`INSERT OR IGNORE` (an entry already there is kept as it was, with its first reason and time); reading
which keys are suppressed is one indexed `IN` query over the workspace's rows and the service-wide ones.
A listing is newest first, paged by a keyset cursor on (created_at, key). Rows never expire: a suppression
lasts until its workspace removes it (the service-wide list is never shrunk by a workspace).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadenrich.jobs.encoding import check_limit, cursor_ts, decode_cursor, encode_cursor, ts
from leadenrich.jobs.models import Page
from leadenrich.privacy.identity import Identity, Kind
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason
from leadenrich.sqlite.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    workspace_id TEXT NOT NULL,
    key          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    label        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX IF NOT EXISTS suppressions_newest ON suppressions (workspace_id, created_at DESC, key DESC);
"""
_KEYS_PER_QUERY = 400  # bound parameters per statement, well under SQLite's limit


def _cursor(workspace_id: str, entry: Suppression) -> str:
    at = ts(entry.created_at)
    return encode_cursor({"list": "suppressions", "ws": workspace_id, "at": at, "key": entry.identity.key})


class SqliteSuppressionList:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("suppressions", _SCHEMA)

    async def add(self, entries: Sequence[Suppression]) -> int:
        if not entries:
            return 0
        rows = [
            (
                e.workspace_id,
                e.identity.key,
                e.identity.kind.value,
                e.identity.label,
                e.reason.value,
                ts(e.created_at),
            )
            for e in entries
        ]
        with self._db.write() as conn:
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO suppressions (workspace_id, key, kind, label, reason, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            return conn.total_changes - before

    async def remove(self, workspace_id: str, key: str) -> bool:
        with self._db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM suppressions WHERE workspace_id = ? AND key = ?", (workspace_id, key)
            )
            return deleted.rowcount > 0

    async def list(
        self, workspace_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Suppression]:
        check_limit(limit)
        query = "SELECT * FROM suppressions WHERE workspace_id = ?"
        params: list[object] = [workspace_id]
        if cursor is not None:
            after = decode_cursor(cursor, {"list": "suppressions", "ws": workspace_id}, ("at", "key"))
            at = cursor_ts(after["at"])
            query += " AND (created_at < ? OR (created_at = ? AND key < ?))"
            params += [at, at, after["key"]]
        query += " ORDER BY created_at DESC, key DESC LIMIT ?"
        rows = self._db.read().execute(query, (*params, limit + 1)).fetchall()
        entries = [
            Suppression(
                row["workspace_id"],
                Identity(Kind(row["kind"]), row["key"], row["label"]),
                SuppressionReason(row["reason"]),
                datetime.fromisoformat(row["created_at"]),  # `ts` text: UTC, with its offset
            )
            for row in rows[:limit]
        ]
        more = len(rows) > limit
        return Page(items=entries, cursor=_cursor(workspace_id, entries[-1]) if more else None)

    async def suppressed(self, workspace_id: str, keys: Sequence[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        conn = self._db.read()
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            chunk = wanted[start : start + _KEYS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)  # placeholders only: the keys are bound, never spliced
            query = f"SELECT key FROM suppressions WHERE workspace_id IN (?, ?) AND key IN ({marks})"  # noqa: S608
            found.update(row["key"] for row in conn.execute(query, (workspace_id, SERVICE_WIDE, *chunk)))
        return found


__all__ = ["SqliteSuppressionList"]
