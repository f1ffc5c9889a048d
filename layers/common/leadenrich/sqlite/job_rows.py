"""The SQLite job store's tables (`leadenrich.sqlite.job_store`), their rows and the job models, both ways;
its cursors.

Tables (made by the store's constructor, `CREATE ... IF NOT EXISTS`):

    jobs          (workspace_id, job_id) primary key; options one column each (tags and webhook events as
                  JSON text); counters one column each, the float ones as decimal text
                  index (workspace_id, created_at DESC, job_id DESC): a workspace's jobs newest first
                  unique (workspace_id, idempotency_key): a key is used once per workspace (NULLs distinct)
    job_items     (workspace_id, job_id, item_id) primary key: a job's items in input order (ids are
                  zero-padded); lead and result as JSON text; references its job
                  index (workspace_id, job_id, status, item_id): a job's items of one status, in order
    job_activity  (workspace_id, minute) primary key: what finishes added in a UTC minute (`GET /metrics`
                  reads the last hour); rows older than two days are pruned when a minute's row is made

Encoding, and why:
- datetimes are fixed-width UTC ISO 8601 text with microseconds (`2025-03-01T12:00:00.000000+00:00`, a
  naive datetime taken as UTC), as the other stores write them: text order is time order, so a condition
  such as `lease_until < :now` compares instants, and they read back as the same tz-aware UTC datetime;
- the float counters (credits, cost, time) are decimal text, added in `Decimal` by the store: in floats
  0.1 + 0.1 + 0.1 != 0.3, and the DynamoDB store's decimals (and Supabase's numeric) give 0.3;
- an item's lead and result and a job's tags and webhook events are JSON text; booleans are 0 or 1.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import Any

from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import (
    MAX_LIMIT,
    check_limit,
    cursor_ts,
    decode_cursor,
    encode_cursor,
    opt_ts,
    parse_ts,
    ts,
)
from leadenrich.jobs.models import Item, ItemStatus, Job, JobCounters, JobOptions, JobStatus
from leadenrich.sqlite.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    workspace_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    idempotency_key TEXT,
    request_fingerprint TEXT,
    priority INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    skip_existing INTEGER NOT NULL,
    webhook_url TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    webhook_events TEXT NOT NULL DEFAULT '["job.completed"]',
    queue_window INTEGER,
    total INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    found INTEGER NOT NULL DEFAULT 0,
    risky INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created_emails INTEGER NOT NULL DEFAULT 0,
    api_calls_hunter INTEGER NOT NULL DEFAULT 0,
    api_calls_perplexity INTEGER NOT NULL DEFAULT 0,
    credits_hunter TEXT NOT NULL DEFAULT '0',
    cost_perplexity_usd TEXT NOT NULL DEFAULT '0',
    processing_time_seconds TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (workspace_id, job_id)
);
CREATE INDEX IF NOT EXISTS jobs_newest_first ON jobs (workspace_id, created_at DESC, job_id DESC);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency_key ON jobs (workspace_id, idempotency_key);

CREATE TABLE IF NOT EXISTS job_items (
    workspace_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    lead TEXT NOT NULL,
    lead_id TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    result TEXT,
    updated_at TEXT,
    lease_token TEXT,
    lease_until TEXT,
    next_attempt_at TEXT,
    sent_next INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, job_id, item_id),
    FOREIGN KEY (workspace_id, job_id) REFERENCES jobs (workspace_id, job_id)
);
CREATE INDEX IF NOT EXISTS job_items_by_status ON job_items (workspace_id, job_id, status, item_id);

CREATE TABLE IF NOT EXISTS job_activity (
    workspace_id TEXT NOT NULL,
    minute TEXT NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    found INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, minute)
) WITHOUT ROWID;
"""

INSERT_JOB = """
INSERT INTO jobs (
    workspace_id, job_id, status, created_at, started_at, completed_at, idempotency_key, request_fingerprint,
    priority, max_attempts, skip_existing, webhook_url, tags, webhook_events, queue_window, total,
    processed, found, risky, failed, created_emails, api_calls_hunter, api_calls_perplexity,
    credits_hunter, cost_perplexity_usd, processing_time_seconds
) VALUES (
    :workspace_id, :job_id, :status, :created_at, :started_at, :completed_at, :idempotency_key,
    :request_fingerprint, :priority, :max_attempts, :skip_existing, :webhook_url, :tags, :webhook_events,
    :queue_window, :total, :processed, :found, :risky, :failed, :created_emails, :api_calls_hunter,
    :api_calls_perplexity, :credits_hunter, :cost_perplexity_usd, :processing_time_seconds
)"""
INSERT_ITEM = """
INSERT INTO job_items (
    workspace_id, job_id, item_id, lead, lead_id, status, attempts, reason, result, updated_at, lease_token,
    lease_until, next_attempt_at, sent_next
) VALUES (
    :workspace_id, :job_id, :item_id, :lead, :lead_id, :status, :attempts, :reason, :result, :updated_at,
    :lease_token, :lease_until, :next_attempt_at, :sent_next
)"""

INT_COUNTERS = tuple(f.name for f in dataclasses.fields(JobCounters) if isinstance(f.default, int))
FLOAT_COUNTERS = tuple(f.name for f in dataclasses.fields(JobCounters) if isinstance(f.default, float))


# Columns added after a state file may have been made: (table, column, definition), added when missing.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("jobs", "risky", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "request_fingerprint", "TEXT"),
)


def add_missing_columns(db: Database) -> None:
    """`CREATE TABLE IF NOT EXISTS` leaves a table made by an older version as it was: a state file from
    before a column existed gets it here, once. Read first: a current file takes no write lock at start-up;
    the write re-checks, as another process may have added the column meanwhile."""

    def missing(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
        present = {
            (table, row[1])
            for table in {t for t, _, _ in ADDED_COLUMNS}
            for row in conn.execute(f"PRAGMA table_info({table})")
        }
        return [added for added in ADDED_COLUMNS if (added[0], added[1]) not in present]

    if not missing(db.read()):
        return
    with db.write() as conn:
        for table, column, definition in missing(conn):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def minute(moment: datetime) -> str:
    """The UTC minute an activity row counts (`2025-03-01T12:00`)."""
    return ts(moment)[:16]


def decimal_text(value: Decimal | float) -> str:
    """Exact: a float goes through its shortest repr, not its binary expansion."""
    return str(value if isinstance(value, Decimal) else Decimal(str(value)))


def add_decimal(stored: str, delta: float) -> str:
    return decimal_text(Decimal(stored) + Decimal(str(delta)))


def result_text(result: dict[str, Any] | None) -> str | None:
    """An item's result as stored (JSON text; floats come back exactly)."""
    return json.dumps(result, ensure_ascii=False) if result is not None else None


# --- jobs ---------------------------------------------------------------------------------------------------


def job_params(job: Job) -> dict[str, Any]:
    """The `jobs` row of a job, keyed by column (the INSERT binds them by name)."""
    options = job.options.as_row()
    row: dict[str, Any] = {
        "workspace_id": job.workspace_id,
        "job_id": job.job_id,
        "status": job.status.value,
        "created_at": ts(job.created_at),
        "started_at": opt_ts(job.started_at),
        "completed_at": opt_ts(job.completed_at),
        "idempotency_key": job.idempotency_key,
        "request_fingerprint": job.request_fingerprint,
        **options,
        "skip_existing": int(options["skip_existing"]),
        "tags": json.dumps(options["tags"], ensure_ascii=False),
        "webhook_events": json.dumps(options["webhook_events"]),
    }
    for name in INT_COUNTERS:
        row[name] = int(getattr(job.counters, name))
    for name in FLOAT_COUNTERS:
        row[name] = decimal_text(getattr(job.counters, name))
    return row


def job_from_row(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["tags"] = json.loads(values["tags"] or "[]")
    values["webhook_events"] = json.loads(values["webhook_events"]) if values["webhook_events"] else None
    numbers: dict[str, Any] = {name: int(values[name]) for name in INT_COUNTERS}
    numbers.update({name: float(values[name]) for name in FLOAT_COUNTERS})
    created_at = parse_ts(values["created_at"])
    assert created_at is not None  # NOT NULL column
    return Job(
        workspace_id=values["workspace_id"],
        job_id=values["job_id"],
        status=JobStatus(values["status"]),
        created_at=created_at,
        options=JobOptions.from_row(values),
        counters=JobCounters(**numbers),
        started_at=parse_ts(values["started_at"]),
        completed_at=parse_ts(values["completed_at"]),
        idempotency_key=values["idempotency_key"],
        request_fingerprint=values["request_fingerprint"],
    )


# --- items --------------------------------------------------------------------------------------------------


def item_params(item: Item) -> dict[str, Any]:
    """The `job_items` row of an item, keyed by column."""
    return {
        "workspace_id": item.workspace_id,
        "job_id": item.job_id,
        "item_id": item.item_id,
        "lead": item.lead.model_dump_json(exclude_none=True),
        "lead_id": item.lead_id,
        "status": item.status.value,
        "attempts": item.attempts,
        "reason": item.reason,
        "result": result_text(item.result),
        "updated_at": opt_ts(item.updated_at),
        "lease_token": item.lease_token,
        "lease_until": opt_ts(item.lease_until),
        "next_attempt_at": opt_ts(item.next_attempt_at),
        "sent_next": int(item.sent_next),
    }


def item_from_row(row: sqlite3.Row) -> Item:
    result = row["result"]
    return Item(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        item_id=row["item_id"],
        lead=Lead.model_validate_json(row["lead"]),
        status=ItemStatus(row["status"]),
        attempts=int(row["attempts"]),
        reason=row["reason"],
        result=json.loads(result) if result is not None else None,
        updated_at=parse_ts(row["updated_at"]),
        lease_token=row["lease_token"],
        lease_until=parse_ts(row["lease_until"]),
        next_attempt_at=parse_ts(row["next_attempt_at"]),
        lead_id=row["lead_id"],
        sent_next=bool(row["sent_next"]),
    )


__all__ = [
    "FLOAT_COUNTERS",
    "INSERT_ITEM",
    "INSERT_JOB",
    "INT_COUNTERS",
    "MAX_LIMIT",
    "SCHEMA",
    "add_decimal",
    "add_missing_columns",
    "check_limit",
    "cursor_ts",
    "decimal_text",
    "decode_cursor",
    "encode_cursor",
    "item_from_row",
    "item_params",
    "job_from_row",
    "job_params",
    "minute",
    "opt_ts",
    "parse_ts",
    "result_text",
    "ts",
]
