"""The webhook log in the embedded SQLite file: inbound events seen (replay protection), outbound attempts
(shown with the job) and the outbox of retries, with the methods and meaning of `DynamoWebhookLog`.

Four tables instead of four row shapes in one: `webhook_events` keyed by (provider, event id),
`webhook_attempts` by (workspace, job, time, number), `webhook_outbox` by the entry's key, which starts
with its due time so key order is due order (the key is what `due` hands out and `take` removes), and
`webhook_once` by the event id of each delivery owed once (`schedule_once`), kept as long as attempts.

Expiry is wall-clock epoch seconds, as DynamoDB's TTL: an event is remembered for `EVENT_TTL_SECONDS`
and an attempt kept for `ATTEMPT_TTL_SECONDS`. An expired row counts as gone at once (an event id seen
again after a week is a new event, not a replay); `purge_expired()` deletes such rows for whoever owns the
file. `take` is one conditional delete: of two processors, only one gets True for an entry.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from leadenrich.sqlite.db import Database
from leadenrich.webhooks.outbound import Attempt, Delivery

EVENT_TTL_SECONDS = 7 * 24 * 3600  # as `leadenrich.aws.dynamo_webhooks`
ATTEMPT_TTL_SECONDS = 30 * 24 * 3600
_MAX_ERROR = 256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    received_at REAL NOT NULL,
    summary     TEXT NOT NULL,
    expires_at  REAL NOT NULL,
    PRIMARY KEY (provider, event_id)
);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    workspace_id TEXT NOT NULL,
    job_id       TEXT NOT NULL,
    sort_at      TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    at           TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    delivered    INTEGER NOT NULL,
    expires_at   REAL NOT NULL,
    PRIMARY KEY (workspace_id, job_id, sort_at, attempt)
);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    key      TEXT PRIMARY KEY,
    due_at   TEXT NOT NULL,
    attempt  INTEGER NOT NULL,
    delivery TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_once (
    event_id   TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_events_by_expiry ON webhook_events (expires_at);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_expiry ON webhook_attempts (expires_at);
CREATE INDEX IF NOT EXISTS webhook_once_by_expiry ON webhook_once (expires_at);
"""


def _ts(at: datetime) -> str:
    """Fixed-width UTC (a naive datetime is taken as UTC), so string order is time order."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SqliteWebhookLog:
    """See the module docstring. `now` is wall time (epoch seconds), for the rows' expiry."""

    def __init__(self, db: Database, *, now: Callable[[], float] = time.time) -> None:
        self._db = db
        self._now = now
        db.ensure_schema("webhook_log", _SCHEMA)

    # --- inbound -------------------------------------------------------------------------------------------

    async def record_event(self, provider: str, event_id: str, summary: dict[str, str]) -> bool:
        """Record a provider event once: False when (provider, event id) was recorded already (a replay).
        An expired record is replaced, as if DynamoDB's TTL had deleted it."""
        now = self._now()
        with self._db.write() as conn:
            written = conn.execute(
                "INSERT INTO webhook_events (provider, event_id, received_at, summary, expires_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, event_id) DO UPDATE"
                " SET received_at = excluded.received_at, summary = excluded.summary,"
                " expires_at = excluded.expires_at WHERE webhook_events.expires_at <= ?"
                " RETURNING event_id",
                (provider, event_id, now, json.dumps(summary), now + EVENT_TTL_SECONDS, now),
            ).fetchall()  # read to the end inside the block: the statement must finish before COMMIT
        return bool(written)

    async def forget_event(self, provider: str, event_id: str) -> None:
        """Undo `record_event` when routing failed, so the provider's retry is not taken for a replay."""
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM webhook_events WHERE provider = ? AND event_id = ?", (provider, event_id)
            )

    # --- outbound ------------------------------------------------------------------------------------------

    async def record_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        """Record one attempt (recording the same attempt again overwrites it, as DynamoDB's put does)."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO webhook_attempts (workspace_id, job_id, sort_at, attempt, at,"
                " event_id, status_code, error, delivered, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    delivery.workspace_id,
                    delivery.job_id,
                    _ts(attempt.at),
                    attempt.number,
                    attempt.at.isoformat(),
                    delivery.event_id,
                    attempt.status_code,
                    attempt.error[:_MAX_ERROR] if attempt.error is not None else None,
                    attempt.delivered,
                    self._now() + ATTEMPT_TTL_SECONDS,
                ),
            )

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]:
        """The job's attempts, oldest first."""
        rows = (
            self._db.read()
            .execute(
                "SELECT attempt, at, status_code, error, delivered, event_id FROM webhook_attempts"
                " WHERE workspace_id = ? AND job_id = ? AND expires_at > ? ORDER BY sort_at, attempt",
                (workspace_id, job_id, self._now()),
            )
            .fetchall()
        )
        return [
            {
                "attempt": row["attempt"],
                "at": row["at"],
                "status_code": row["status_code"],
                "error": row["error"],
                "delivered": bool(row["delivered"]),
                "event_id": row["event_id"],
            }
            for row in rows
        ]

    async def schedule(self, delivery: Delivery, attempt: int, at: datetime) -> None:
        """Put the delivery in the outbox for attempt number `attempt` at `at`."""
        with self._db.write() as conn:
            _put_outbox(conn, delivery, attempt, at)

    async def schedule_once(self, delivery: Delivery, at: datetime) -> bool:
        """Its first attempt in the outbox at `at`, unless its event id was owed before (an expired mark
        counts as gone, as DynamoDB's TTL would delete it); True only when this call put it there."""
        now = self._now()
        with self._db.write() as conn:
            marked = conn.execute(
                "INSERT INTO webhook_once (event_id, expires_at) VALUES (?, ?)"
                " ON CONFLICT (event_id) DO UPDATE SET expires_at = excluded.expires_at"
                " WHERE webhook_once.expires_at <= ? RETURNING event_id",
                (delivery.event_id, now + ATTEMPT_TTL_SECONDS, now),
            ).fetchall()  # read to the end inside the block: the statement must finish before COMMIT
            if marked:
                _put_outbox(conn, delivery, 1, at)
        return bool(marked)

    async def due(self, now: datetime, limit: int) -> list[tuple[str, Delivery, int]]:
        """(outbox key, delivery, attempt number) of the retries due by `now`, oldest first."""
        rows = (
            self._db.read()
            .execute(
                "SELECT key, attempt, delivery FROM webhook_outbox WHERE due_at <= ? ORDER BY key LIMIT ?",
                (_ts(now), limit),
            )
            .fetchall()
        )
        return [(row["key"], Delivery(**json.loads(row["delivery"])), row["attempt"]) for row in rows]

    async def take(self, key: str) -> bool:
        """Remove an outbox entry; True only for the one caller whose delete removed it."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM webhook_outbox WHERE key = ?", (key,)).rowcount == 1

    def purge_expired(self) -> int:
        """Delete the events, attempts and once-marks past their expiry (they count as gone already);
        returns how many."""
        now = self._now()
        with self._db.write() as conn:
            events = conn.execute("DELETE FROM webhook_events WHERE expires_at <= ?", (now,)).rowcount
            attempts = conn.execute("DELETE FROM webhook_attempts WHERE expires_at <= ?", (now,)).rowcount
            marks = conn.execute("DELETE FROM webhook_once WHERE expires_at <= ?", (now,)).rowcount
        return events + attempts + marks


def _put_outbox(conn: sqlite3.Connection, delivery: Delivery, attempt: int, at: datetime) -> None:
    due_at = _ts(at)
    body = {
        "workspace_id": delivery.workspace_id,
        "job_id": delivery.job_id,
        "url": delivery.url,
        "event_id": delivery.event_id,
        "body": delivery.body,
    }
    conn.execute(
        "INSERT OR REPLACE INTO webhook_outbox (key, due_at, attempt, delivery) VALUES (?, ?, ?, ?)",
        (f"{due_at}#{delivery.event_id}#{attempt:02d}", due_at, attempt, json.dumps(body)),
    )


__all__ = ["ATTEMPT_TTL_SECONDS", "EVENT_TTL_SECONDS", "SqliteWebhookLog"]
