"""The SQLite job store's tables (`leadenrich.sqlite.job_store`), and its rows: `jobs.rows`' plain rows in
SQLite's types.

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
- datetimes are `jobs.encoding.ts` text, as the other stores write them: text order is time order, so a
  condition such as `lease_until < :now` compares instants, and they read back as tz-aware UTC;
- the float counters (credits, cost, time) are decimal text, added in `Decimal` by the store: in floats
  0.1 + 0.1 + 0.1 != 0.3, and the DynamoDB store's decimals (and Supabase's numeric) give 0.3;
- an item's lead and result and a job's tags, webhook events and upload state are JSON text; booleans are
  0 or 1.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from leadenrich.jobs import rows
from leadenrich.jobs.models import Item, Job
from leadenrich.jobs.rows import FLOAT_COUNTERS, exact_decimal
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.db import add_missing_columns as add_columns

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

INSERT_ITEM = """
INSERT INTO job_items (
    workspace_id, job_id, item_id, lead, lead_id, status, attempts, reason, result, updated_at, lease_token,
    lease_until, next_attempt_at, sent_next
) VALUES (
    :workspace_id, :job_id, :item_id, :lead, :lead_id, :status, :attempts, :reason, :result, :updated_at,
    :lease_token, :lease_until, :next_attempt_at, :sent_next
)"""

COUNTERS = rows.counter_columns()  # one column per counter, named as the field


# Columns added after a state file may have been made: (table, column, definition), added when missing.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("jobs", "risky", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "request_fingerprint", "TEXT"),
)


def add_missing_columns(db: Database) -> None:
    """The job tables' columns added since a state file may have been made (`db.add_missing_columns`)."""
    add_columns(db, ADDED_COLUMNS)


def decimal_text(value: Decimal | float) -> str:
    """A float counter as stored: exact decimal text."""
    return str(exact_decimal(value))


def add_decimal(stored: str, delta: float) -> str:
    return decimal_text(Decimal(stored) + exact_decimal(delta))


def result_text(result: dict[str, Any] | None) -> str | None:
    """An item's result as stored (JSON text; floats come back exactly)."""
    return json.dumps(result, ensure_ascii=False) if result is not None else None


def job_params(job: Job) -> dict[str, Any]:
    """The `jobs` row of a job, keyed by column (the INSERT binds them by name)."""
    row = rows.job_to_row(job, COUNTERS)
    row["skip_existing"] = int(row["skip_existing"])
    row["tags"] = json.dumps(row["tags"], ensure_ascii=False)
    row["webhook_events"] = json.dumps(row["webhook_events"])
    row["upload"] = json.dumps(row["upload"], ensure_ascii=False) if row["upload"] is not None else None
    row.update({name: decimal_text(row[name]) for name in FLOAT_COUNTERS})
    return row


def job_from_row(row: sqlite3.Row) -> Job:
    values = dict(row)
    values["tags"] = json.loads(values["tags"] or "[]")
    values["webhook_events"] = json.loads(values["webhook_events"]) if values["webhook_events"] else None
    return rows.job_from_row(values, COUNTERS)


def item_params(item: Item) -> dict[str, Any]:
    """The `job_items` row of an item, keyed by column."""
    row = rows.item_to_row(item)
    row["lead"] = item.lead.model_dump_json(exclude_none=True)
    row["result"] = result_text(item.result)
    row["sent_next"] = int(item.sent_next)
    return row


def item_from_row(row: sqlite3.Row) -> Item:
    values = dict(row)
    values["lead"] = json.loads(values["lead"])
    values["result"] = json.loads(values["result"]) if values["result"] is not None else None
    return rows.item_from_row(values)


__all__ = [
    "COUNTERS",
    "INSERT_ITEM",
    "SCHEMA",
    "add_decimal",
    "add_missing_columns",
    "decimal_text",
    "item_from_row",
    "item_params",
    "job_from_row",
    "job_params",
    "result_text",
]
