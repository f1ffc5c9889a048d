"""`AuditLog` in the embedded SQLite file (issue 14; docs/privacy.md "Audit trail"): the local stack's
audit trail, with the same entries, order, filters, cursors and retention as DynamoDB's.

One row per entry, keyed (workspace, at, entry id): a listing is a keyset read of that key backwards. Rows
past their `expires_at` (at + the workspace's retention) are not returned, and each append deletes them in
its own transaction, the role DynamoDB's TTL plays in AWS, so a file that is written to never keeps an
entry past its time.

Append only, as the template makes it in AWS: triggers refuse any UPDATE of an entry, and any DELETE of
one whose time has not come (by SQLite's own clock), whoever connects to the file.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from leadenrich.jobs.encoding import parse_ts, ts
from leadenrich.jobs.models import Page
from leadenrich.privacy.audit import (
    AuditRetention,
    after_entry,
    audit_cursor,
    check_query,
    detail_text,
    expires_at,
    new_entry_id,
    read_detail,
)
from leadenrich.privacy.ports import AuditEntry, AuditQuery
from leadenrich.sqlite.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    workspace_id TEXT NOT NULL,
    at           TEXT NOT NULL,
    entry_id     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    job_id       TEXT,
    source_ip    TEXT,
    detail       TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, at, entry_id)
);
CREATE INDEX IF NOT EXISTS audit_expiry ON audit (expires_at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append only');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_early_delete BEFORE DELETE ON audit
WHEN old.expires_at > CAST(strftime('%s', 'now') AS INTEGER)
BEGIN
    SELECT RAISE(ABORT, 'audit entries are kept until they expire');
END;
"""
_FILTERS = ("action", "target", "job_id", "actor")
_ID_ATTEMPTS = 3


class SqliteAuditLog:
    def __init__(
        self,
        db: Database,
        *,
        retention: AuditRetention | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._retention = retention or AuditRetention()
        self._now = now
        db.ensure_schema("audit", _SCHEMA)

    async def append(self, entry: AuditEntry) -> AuditEntry:
        detail = detail_text(entry)
        days = await self._retention.days(entry.workspace_id)
        at = ts(entry.at)
        # Never past SQLite's own clock: the trigger refuses to delete what has not expired by it.
        now = min(int(self._now()), int(time.time()))
        for _ in range(_ID_ATTEMPTS):
            entry_id = new_entry_id(entry.at)
            row = (
                entry.workspace_id,
                at,
                entry_id,
                entry.actor,
                entry.action,
                entry.target,
                entry.job_id,
                entry.source_ip,
                detail,
                expires_at(entry.at, days),
            )
            try:
                with self._db.write() as conn:
                    conn.execute("DELETE FROM audit WHERE expires_at <= ?", (now,))
                    conn.execute(
                        "INSERT INTO audit (workspace_id, at, entry_id, actor, action, target, job_id,"
                        " source_ip, detail, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row,
                    )
            except sqlite3.IntegrityError:  # the same id at the same instant: never, in practice
                continue
            stored_at = parse_ts(at)
            assert stored_at is not None
            return replace(entry, at=stored_at, entry_id=entry_id)
        raise RuntimeError("audit: no free entry id")  # pragma: no cover - 80 random bits

    async def query(self, query: AuditQuery) -> Page[AuditEntry]:
        check_query(query)
        after = after_entry(query)
        clauses = ["workspace_id = ?", "expires_at > ?"]
        params: list[Any] = [query.workspace_id, int(self._now())]
        if query.since is not None:
            clauses.append("at >= ?")
            params.append(ts(query.since))
        if query.until is not None:
            clauses.append("at < ?")
            params.append(ts(query.until))
        if after is not None:
            clauses.append("(at, entry_id) < (?, ?)")
            params.extend(after)
        for name in _FILTERS:  # column names from this constant only; the values are bound
            wanted = getattr(query, name)
            if wanted is not None:
                clauses.append(f"{name} = ?")
                params.append(wanted)
        sql = (
            "SELECT * FROM audit WHERE "  # noqa: S608 - fixed clauses, bound values
            + " AND ".join(clauses)
            + " ORDER BY at DESC, entry_id DESC LIMIT ?"
        )
        rows = self._db.read().execute(sql, (*params, query.limit + 1)).fetchall()
        entries = [_entry(row) for row in rows[: query.limit]]
        cursor = None
        if len(rows) > query.limit:
            last = rows[query.limit - 1]
            cursor = audit_cursor(query, last["at"], last["entry_id"])
        return Page(items=entries, cursor=cursor)


def _entry(row: sqlite3.Row) -> AuditEntry:
    at = parse_ts(row["at"])
    assert at is not None
    return AuditEntry(
        workspace_id=row["workspace_id"],
        at=at,
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        job_id=row["job_id"],
        source_ip=row["source_ip"],
        detail=read_detail(row["detail"]),
        entry_id=row["entry_id"],
    )


__all__ = ["SqliteAuditLog"]
