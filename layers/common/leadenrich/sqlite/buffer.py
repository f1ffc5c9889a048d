"""`LeadBuffer` in the embedded SQLite file (the local stack's buffer, `make run`).

    buffer_leads    one row per lead: (workspace_id, lead_id) its key; unique (workspace_id, namespace,
                    lead_key) is the de-duplication, and unique (workspace_id, namespace, parent_run_id) a
                    run's one lead; partial indexes on the claimable leads (oldest first) and the served
                    ones (newest first)
    buffer_cursors  one row per (workspace_id, namespace): the caller's cursor state
    buffer_served   the served registry: (workspace_id, namespace, lead_key) and when it was first served;
                    it outlives the lead (retention, erasure: `buffer.retention`), so a push skips a lead
                    its namespace served even once the lead's row is gone

Every change is one `BEGIN IMMEDIATE` transaction (`sqlite.db`): a claim reads the run's lead or the oldest
claimable one and takes it in the same transaction, so two callers, threads or processes never take one lead.
JSON columns (the lead, its data, the result, the source lists) are JSON text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadenrich.buffer.models import (
    BufferState,
    CursorState,
    Enrichment,
    LeadRecord,
    PushCounts,
    ServedQuery,
)
from leadenrich.buffer.rows import after_served, enrichment_columns, record_of, record_row, served_cursor
from leadenrich.jobs.encoding import parse_ts, ts
from leadenrich.jobs.models import Page
from leadenrich.sqlite.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buffer_leads (
    workspace_id      TEXT NOT NULL,
    lead_id           TEXT NOT NULL,
    namespace         TEXT NOT NULL,
    lead_key          TEXT NOT NULL,
    lead              TEXT NOT NULL,
    data              TEXT,
    state             TEXT NOT NULL,
    pushed_at         TEXT NOT NULL,
    parent_run_id     TEXT,
    claim_token       TEXT,
    lease_until       TEXT,
    served_at         TEXT,
    enrichment_status TEXT NOT NULL,
    enriched_at       TEXT,
    enrichment_error  TEXT,
    sources_used      TEXT NOT NULL,
    sources_failed    TEXT NOT NULL,
    result            TEXT,
    updated_at        TEXT,
    PRIMARY KEY (workspace_id, lead_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS buffer_leads_identity ON buffer_leads (workspace_id, namespace, lead_key);
CREATE UNIQUE INDEX IF NOT EXISTS buffer_leads_run ON buffer_leads (workspace_id, namespace, parent_run_id)
    WHERE parent_run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS buffer_leads_ready ON buffer_leads (workspace_id, namespace, pushed_at, lead_id)
    WHERE state IN ('buffered', 'claimed');
CREATE INDEX IF NOT EXISTS buffer_leads_served ON buffer_leads (workspace_id, served_at DESC, lead_id DESC)
    WHERE state = 'served';
CREATE TABLE IF NOT EXISTS buffer_cursors (
    workspace_id TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    state        TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, namespace)
);
CREATE TABLE IF NOT EXISTS buffer_served (
    workspace_id TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    lead_key     TEXT NOT NULL,
    served_at    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, namespace, lead_key)
);
CREATE INDEX IF NOT EXISTS buffer_served_at ON buffer_served (served_at);
INSERT OR IGNORE INTO buffer_served (workspace_id, namespace, lead_key, served_at)
    SELECT workspace_id, namespace, lead_key, served_at FROM buffer_leads WHERE state = 'served';
"""
_JSON_COLUMNS = ("lead", "data", "sources_used", "sources_failed", "result")
_COLUMNS = (
    "workspace_id",
    "lead_id",
    "namespace",
    "lead_key",
    "lead",
    "data",
    "state",
    "pushed_at",
    "parent_run_id",
    "claim_token",
    "lease_until",
    "served_at",
    "enrichment_status",
    "enriched_at",
    "enrichment_error",
    "sources_used",
    "sources_failed",
    "result",
    "updated_at",
)
_INSERT = (
    f"INSERT OR IGNORE INTO buffer_leads ({', '.join(_COLUMNS)})"  # noqa: S608 - column names are ours
    f" VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
_CLAIMED, _SERVED = BufferState.CLAIMED.value, BufferState.SERVED.value


def _text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _values(row: dict[str, Any]) -> list[Any]:
    return [_text(row[c]) if c in _JSON_COLUMNS else row[c] for c in _COLUMNS]


def _record(row: sqlite3.Row | None) -> LeadRecord | None:
    return record_of(dict(row)) if row is not None else None


class SqliteLeadBuffer:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("buffer_leads", _SCHEMA)

    async def push(self, workspace_id: str, namespace: str, records: Sequence[LeadRecord]) -> PushCounts:
        buffered = served = held = 0
        with self._db.write() as conn:
            for record in records:
                if conn.execute(
                    "SELECT 1 FROM buffer_served WHERE workspace_id = ? AND namespace = ? AND lead_key = ?",
                    (workspace_id, namespace, record.lead_key),
                ).fetchone():
                    served += 1  # served before: its row may be gone (retention, erasure), not its entry
                    continue
                if conn.execute(_INSERT, _values(record_row(record))).rowcount:
                    buffered += 1
                    continue
                existing = conn.execute(
                    "SELECT state FROM buffer_leads"
                    " WHERE workspace_id = ? AND namespace = ? AND lead_key = ?",
                    (workspace_id, namespace, record.lead_key),
                ).fetchone()
                if existing is not None and existing["state"] == _SERVED:
                    served += 1
                else:
                    held += 1
        return PushCounts(buffered=buffered, already_served=served, already_buffered=held)

    async def claim(
        self,
        workspace_id: str,
        namespace: str,
        *,
        parent_run_id: str | None,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> LeadRecord | None:
        with self._db.write() as conn:
            if parent_run_id is not None:
                held = conn.execute(
                    "SELECT lead_id, state FROM buffer_leads WHERE workspace_id = ? AND namespace = ?"
                    " AND parent_run_id = ? AND state IN (?, ?)",
                    (workspace_id, namespace, parent_run_id, _CLAIMED, _SERVED),
                ).fetchone()
                if held is not None:
                    if held["state"] == _CLAIMED:
                        conn.execute(
                            "UPDATE buffer_leads SET lease_until = ?, updated_at = ?"
                            " WHERE workspace_id = ? AND lead_id = ?",
                            (ts(lease_until), ts(now), workspace_id, held["lead_id"]),
                        )
                    return self._read(conn, workspace_id, held["lead_id"])
            candidate = conn.execute(
                "SELECT lead_id FROM buffer_leads WHERE workspace_id = ? AND namespace = ?"
                " AND (state = ? OR (state = ? AND lease_until < ?)) ORDER BY pushed_at, lead_id LIMIT 1",
                (workspace_id, namespace, BufferState.BUFFERED.value, _CLAIMED, ts(now)),
            ).fetchone()
            if candidate is None:
                return None
            conn.execute(
                "UPDATE buffer_leads SET state = ?, claim_token = ?, lease_until = ?, parent_run_id = ?,"
                " updated_at = ? WHERE workspace_id = ? AND lead_id = ?",
                (
                    _CLAIMED,
                    token,
                    ts(lease_until),
                    parent_run_id,
                    ts(now),
                    workspace_id,
                    candidate["lead_id"],
                ),
            )
            return self._read(conn, workspace_id, candidate["lead_id"])

    async def serve(self, record: LeadRecord, enrichment: Enrichment, now: datetime) -> LeadRecord | None:
        columns = enrichment_columns(enrichment)
        sets = ", ".join(f"{name} = ?" for name in columns)
        with self._db.write() as conn:
            changed = conn.execute(
                f"UPDATE buffer_leads SET state = ?, served_at = COALESCE(served_at, ?), lease_until = NULL,"  # noqa: S608
                f" updated_at = ?, {sets} WHERE workspace_id = ? AND lead_id = ? AND claim_token = ?"
                " AND state IN (?, ?)",
                (
                    _SERVED,
                    ts(now),
                    ts(now),
                    *(_text(v) if n in _JSON_COLUMNS else v for n, v in columns.items()),
                    record.workspace_id,
                    record.lead_id,
                    record.claim_token,
                    _CLAIMED,
                    _SERVED,
                ),
            ).rowcount
            if not changed:
                return None
            served = self._read(conn, record.workspace_id, record.lead_id)
            assert served is not None and served.served_at is not None  # just written
            conn.execute(
                "INSERT OR IGNORE INTO buffer_served (workspace_id, namespace, lead_key, served_at)"
                " VALUES (?, ?, ?, ?)",
                (served.workspace_id, served.namespace, served.lead_key, ts(served.served_at)),
            )
            return served

    async def discard(self, record: LeadRecord) -> bool:
        with self._db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM buffer_leads WHERE workspace_id = ? AND lead_id = ? AND claim_token = ?"
                " AND state = ?",
                (record.workspace_id, record.lead_id, record.claim_token, _CLAIMED),
            )
            return deleted.rowcount > 0

    async def served(self, query: ServedQuery) -> Page[LeadRecord]:
        sql = "SELECT * FROM buffer_leads WHERE workspace_id = ? AND state = ?"
        params: list[Any] = [query.workspace_id, _SERVED]
        for column, value in (
            ("namespace = ?", query.namespace),
            ("enrichment_status = ?", query.enrichment_status.value if query.enrichment_status else None),
            ("served_at >= ?", ts(query.since) if query.since else None),
            ("served_at < ?", ts(query.until) if query.until else None),
        ):
            if value is not None:
                sql += f" AND {column}"
                params.append(value)
        after = after_served(query)
        if after is not None:
            sql += " AND (served_at < ? OR (served_at = ? AND lead_id < ?))"
            params += [after["at"], after["at"], after["id"]]
        sql += " ORDER BY served_at DESC, lead_id DESC LIMIT ?"
        rows = self._db.read().execute(sql, (*params, query.limit + 1)).fetchall()
        records = [record_of(dict(row)) for row in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items=records, cursor=served_cursor(query, records[-1]) if more else None)

    async def get_cursor(self, workspace_id: str, namespace: str) -> CursorState | None:
        row = (
            self._db.read()
            .execute(
                "SELECT state, updated_at FROM buffer_cursors WHERE workspace_id = ? AND namespace = ?",
                (workspace_id, namespace),
            )
            .fetchone()
        )
        if row is None:
            return None
        updated_at = parse_ts(row["updated_at"])
        assert updated_at is not None  # written with its time
        return CursorState(workspace_id, namespace, json.loads(row["state"]), updated_at)

    async def put_cursor(
        self, workspace_id: str, namespace: str, state: dict[str, Any], now: datetime
    ) -> CursorState:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO buffer_cursors (workspace_id, namespace, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (workspace_id, namespace) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                (workspace_id, namespace, _text(state), ts(now)),
            )
        return CursorState(workspace_id, namespace, state, parse_ts(ts(now)) or now)

    @staticmethod
    def _read(conn: sqlite3.Connection, workspace_id: str, lead_id: str) -> LeadRecord | None:
        row = conn.execute(
            "SELECT * FROM buffer_leads WHERE workspace_id = ? AND lead_id = ?", (workspace_id, lead_id)
        ).fetchone()
        return _record(row)


__all__ = ["SqliteLeadBuffer"]
