"""`JobStore` on the embedded local stack's SQLite file (`leadenrich.sqlite.db.Database`).

The tables, their indexes and the row encoding are in `leadenrich.sqlite.job_rows`, except the job-control
columns (pause, due time, kind, caps: `JOB_CONTROL_COLUMNS`) and the due index, which every file gets here,
whatever its age; what a call must refuse before writing, and which jobs and items each transition may
take, are `jobs.store_base`'s, `jobs.job_rules`' and `jobs.item_rules`' (bound into the conditions below).

Every state change is one `db.write()` (BEGIN IMMEDIATE) transaction holding a conditional `UPDATE ...
WHERE <current state>`: the write lock is taken first, so of two racing callers (coroutines of one thread
or other threads and processes on the file) the second sees the first one's commit and matches nothing.
A counter or activity change is made in the transaction of the item transition it counts. The calls are
synchronous inside the async methods and never await within a transaction (see `leadenrich.sqlite.db`).

An item's `updated_at` is the `now` of its last change, and unset until then (as the DynamoDB store does):
the store has no clock of its own.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from leadenrich.jobs import job_rules, store_base
from leadenrich.jobs.encoding import opt_ts, ts
from leadenrich.jobs.item_rules import CLAIMABLE, HELD, SKIPPABLE, job_exists, taken_back
from leadenrich.jobs.models import Item, ItemStatus, Job, JobOptions, JobStatus, Page
from leadenrich.jobs.ports import Activity, CounterDelta, IdempotencyConflict
from leadenrich.jobs.rows import ACTIVITY_KEPT, DELTA_FIELDS, FLOAT_COUNTERS, activity_minute, activity_of
from leadenrich.jobs.store_base import Deferral, Finish, ItemListing, ItemRef, JobListing, JobStoreBase
from leadenrich.sqlite import job_review
from leadenrich.sqlite import job_rows as rows
from leadenrich.sqlite.db import Database, add_missing_columns

SCHEMA_NAME = "job_store"
# Job control (pause, schedule, kind, caps): added to a file of any age, after `job_rows.SCHEMA` made it.
JOB_CONTROL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("jobs", "kind", "TEXT NOT NULL DEFAULT 'enrichment'"),
    ("jobs", "run_at", "TEXT"),
    ("jobs", "max_credits", "REAL"),
    ("jobs", "max_cost_usd", "REAL"),
    ("jobs", "paused_reason", "TEXT"),
    ("jobs", "due_at", "TEXT"),
    ("jobs", "company_data", "INTEGER NOT NULL DEFAULT 0"),  # docs/company-data.md
    ("jobs", "upload", "TEXT"),  # JSON: a job made from an uploaded CSV (`leadenrich.uploads`)
)
# The due index: only scheduled jobs have an entry, in the order `due_jobs` reads them.
_DUE_INDEX = """
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (due_at, workspace_id, job_id) WHERE due_at IS NOT NULL;"""

# Float counters are bound as their new decimal text, or NULL to leave them as they are.
_ADD_COUNTERS = """
UPDATE jobs SET
    processed = processed + :processed, found = found + :found, risky = risky + :risky,
    failed = failed + :failed,
    created_emails = created_emails + :created_emails,
    api_calls_hunter = api_calls_hunter + :api_calls_hunter,
    api_calls_perplexity = api_calls_perplexity + :api_calls_perplexity,
    credits_hunter = coalesce(:credits_hunter, credits_hunter),
    cost_perplexity_usd = coalesce(:cost_perplexity_usd, cost_perplexity_usd),
    processing_time_seconds = coalesce(:processing_time_seconds, processing_time_seconds)
WHERE workspace_id = :ws AND job_id = :job"""
_JOB = "SELECT * FROM jobs WHERE workspace_id = ? AND job_id = ?"
_JOB_BY_KEY = "SELECT * FROM jobs WHERE workspace_id = ? AND idempotency_key = ?"
_ITEM = "SELECT * FROM job_items WHERE workspace_id = :ws AND job_id = :job AND item_id = :item"
# :claimable, :skippable and :statuses are JSON arrays of item statuses; :held is the leased status.
# Claimable, or held with a lease that expired before `now` (its processor died); its job neither cancelled
# nor paused (:holds, `job_rules.HOLDS_ITEMS`).
_CLAIM = """
UPDATE job_items SET status = :held, lease_token = :token, lease_until = :lease_until,
    attempts = attempts + 1, next_attempt_at = NULL, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND (status IN (SELECT value FROM json_each(:claimable)) OR (status = :held AND lease_until < :now))
    AND EXISTS (
        SELECT 1 FROM jobs AS j WHERE j.workspace_id = :ws AND j.job_id = :job
            AND j.status NOT IN (SELECT value FROM json_each(:holds))
    )
RETURNING *"""
# Held with the caller's lease token.
_FINISH = """
UPDATE job_items SET status = :status, reason = :reason, result = :result, lease_token = NULL,
    lease_until = NULL, next_attempt_at = NULL, sent_next = 1, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND status = :held AND lease_token = :token"""
_DEFER = """
UPDATE job_items SET status = 'deferred', reason = :reason, next_attempt_at = :next, lease_token = NULL,
    lease_until = NULL, sent_next = 1, updated_at = :now,
    attempts = CASE WHEN :charge THEN attempts ELSE max(attempts - 1, 0) END
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND status = :held AND lease_token = :token"""
_SKIP = """
UPDATE job_items SET status = 'skipped', reason = :reason, next_attempt_at = NULL, lease_token = NULL,
    lease_until = NULL, sent_next = 1, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND (status IN (SELECT value FROM json_each(:skippable)) OR (status = :held AND lease_until < :now))"""
_REQUEUE_COUNTS = """
SELECT status, count(*) FROM job_items
WHERE workspace_id = :ws AND job_id = :job AND status IN (SELECT value FROM json_each(:statuses))
GROUP BY status"""
_REQUEUE = """
UPDATE job_items SET status = 'queued', attempts = 0, reason = NULL, result = NULL, lease_token = NULL,
    lease_until = NULL, next_attempt_at = NULL, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND status IN (SELECT value FROM json_each(:statuses))
RETURNING *"""
# :pausable, :cancellable and :updatable are JSON arrays of job statuses (`job_rules`).
_PAUSE = """
UPDATE jobs SET status = 'paused', paused_reason = :reason WHERE workspace_id = :ws AND job_id = :job
    AND status IN (SELECT value FROM json_each(:pausable)) RETURNING *"""
_RESUME = """
UPDATE jobs SET paused_reason = NULL, status = CASE WHEN started_at IS NULL THEN :pending ELSE :running END
WHERE workspace_id = :ws AND job_id = :job AND status = :paused RETURNING *"""
_CANCEL = """
UPDATE jobs SET status = 'cancelled', paused_reason = NULL WHERE workspace_id = :ws AND job_id = :job
    AND status IN (SELECT value FROM json_each(:cancellable)) RETURNING *"""
_COMPLETE = """
UPDATE jobs SET status = 'completed', completed_at = :now WHERE workspace_id = :ws AND job_id = :job
    AND status IN ('pending', 'running') AND processed >= total RETURNING *"""
_FAIL = """
UPDATE jobs SET status = 'failed', completed_at = :now, due_at = NULL
WHERE workspace_id = :ws AND job_id = :job AND status = :failable RETURNING *"""
# A page grows a pending job's total only where that total stands (`store_base.page_start`).
_APPEND = """UPDATE jobs SET total = total + :n
WHERE workspace_id = :ws AND job_id = :job AND status = 'pending' AND total = :first"""
# `due_at IS :expected`: equal, or both NULL (no due time set).
_UPDATED = (*JobOptions().as_row(), "due_at")
_UPDATE = f"""
UPDATE jobs SET {", ".join(f"{column} = :{column}" for column in _UPDATED)}
WHERE workspace_id = :ws AND job_id = :job AND due_at IS :expected
    AND status IN (SELECT value FROM json_each(:updatable)) RETURNING *"""  # noqa: S608 - our own columns
_DUE = "SELECT * FROM jobs WHERE due_at <= ? ORDER BY due_at, workspace_id, job_id LIMIT ?"
_RELEASE = "UPDATE jobs SET due_at = NULL WHERE workspace_id = :ws AND job_id = :job AND due_at = :due"
_ACTIVITY = """
SELECT sum(processed) AS processed, sum(found) AS found, sum(failed) AS failed
FROM job_activity WHERE workspace_id = ? AND minute BETWEEN ? AND ?"""


def _statuses(statuses: Iterable[ItemStatus | JobStatus]) -> str:
    """Statuses as a JSON array, for `IN (SELECT value FROM json_each(...))`."""
    return json.dumps(sorted(status.value for status in statuses))


_CLAIMABLE, _SKIPPABLE = _statuses(CLAIMABLE), _statuses(SKIPPABLE)
_HOLDS, _PAUSABLE = _statuses(job_rules.HOLDS_ITEMS), _statuses(job_rules.PAUSABLE)
_CANCELLABLE, _UPDATABLE = _statuses(job_rules.CANCELLABLE), _statuses(job_rules.UPDATABLE)


def _first(cursor: sqlite3.Cursor) -> sqlite3.Row | None:
    """The first row, reading them all: an `UPDATE ... RETURNING` must be stepped to its end before the
    transaction commits."""
    found: list[sqlite3.Row] = cursor.fetchall()
    return found[0] if found else None


def _job(conn: sqlite3.Connection, sql: str, workspace_id: str, value: str) -> Job | None:
    """The workspace's job by id (`_JOB`) or idempotency key (`_JOB_BY_KEY`): both unique per workspace."""
    row = conn.execute(sql, (workspace_id, value)).fetchone()
    return rows.job_from_row(row) if row is not None else None


def _insert_job(conn: sqlite3.Connection, job: Job) -> None:
    """Every column `job_params` maps, by name: a field added to `jobs.rows` is stored without a second
    list of columns to keep in step."""
    params = rows.job_params(job)
    columns, names = ", ".join(params), ", ".join(f":{column}" for column in params)
    conn.execute(f"INSERT INTO jobs ({columns}) VALUES ({names})", params)  # noqa: S608 - our columns


def _insert_items(conn: sqlite3.Connection, items: Sequence[Item]) -> None:
    """One executemany: rows are made one at a time as SQLite asks for them."""
    try:
        conn.executemany(rows.INSERT_ITEM, (rows.item_params(item) for item in items))
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):
            raise
        raise ValueError("items: an item id is given twice or stored already") from exc


def _add_counters(conn: sqlite3.Connection, workspace_id: str, job_id: str, delta: CounterDelta) -> None:
    """Add `delta` to the job's counters; the float ones in Decimal (read and written in one transaction)."""
    params: dict[str, Any] = {"ws": workspace_id, "job": job_id}
    params.update({name: getattr(delta, name) for name in DELTA_FIELDS if name not in FLOAT_COUNTERS})
    floats = {name: getattr(delta, name) for name in DELTA_FIELDS if name in FLOAT_COUNTERS}
    params.update(dict.fromkeys(floats))
    if any(floats.values()):
        stored = conn.execute(_JOB, (workspace_id, job_id)).fetchone()
        if stored is not None:
            params.update({n: rows.add_decimal(stored[n], v) for n, v in floats.items() if v})
    conn.execute(_ADD_COUNTERS, params)


def _count_activity(conn: sqlite3.Connection, workspace_id: str, delta: CounterDelta, now: datetime) -> None:
    """Add the finish to its minute's row; a minute's first finish makes the row and prunes old ones."""
    params = (delta.processed, delta.found, delta.failed, workspace_id, activity_minute(now))
    changed = conn.execute(
        "UPDATE job_activity SET processed = processed + ?, found = found + ?, failed = failed + ?"
        " WHERE workspace_id = ? AND minute = ?",
        params,
    ).rowcount
    if not changed:
        conn.execute(
            "INSERT INTO job_activity (processed, found, failed, workspace_id, minute)"
            " VALUES (?, ?, ?, ?, ?)",
            params,
        )
        conn.execute(
            "DELETE FROM job_activity WHERE workspace_id = ? AND minute < ?",
            (workspace_id, activity_minute(now - ACTIVITY_KEPT)),
        )


def _page_query(table: str, where: list[str], order: str) -> str:
    # Only this module's constant fragments are joined; every value is a bound parameter.
    return f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :limit"  # noqa: S608


def _item(ref: ItemRef, **more: Any) -> dict[str, Any]:
    """The parameters naming an item (`:held`: the status a lease holds it in), and `more`."""
    return {"ws": ref.workspace_id, "job": ref.job_id, "item": ref.item_id, "held": HELD.value, **more}


class SqliteJobStore(job_review.SqliteReview, JobStoreBase):
    """The SQLite adapter of `JobStore`, `ItemAppender` and `IdempotentLookup` (review: `job_review`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(SCHEMA_NAME, rows.SCHEMA)
        rows.add_missing_columns(db)
        add_missing_columns(db, JOB_CONTROL_COLUMNS)
        db.ensure_schema(f"{SCHEMA_NAME}.due", _DUE_INDEX)
        job_review.prepare(db)  # lawful basis, the review queue's index

    # --- jobs ---------------------------------------------------------------------------------------------

    async def _create(self, job: Job, items: Sequence[Item]) -> Job:
        """The job and all its items in one transaction (one executemany): an idempotency conflict, a taken
        job id or an item id stored already stores nothing."""
        with self._db.write() as conn:
            if job.idempotency_key is not None:
                existing = _job(conn, _JOB_BY_KEY, job.workspace_id, job.idempotency_key)
                if existing is not None:
                    raise IdempotencyConflict(existing)
            if _job(conn, _JOB, job.workspace_id, job.job_id) is not None:
                raise job_exists(job.job_id)
            _insert_job(conn, job)
            _insert_items(conn, items)
            stored = _job(conn, _JOB, job.workspace_id, job.job_id)
        assert stored is not None
        return stored

    async def _append(self, job: Job, items: Sequence[Item]) -> None:
        """The items, and their count added to the job's total, in one transaction (nothing written when
        one is stored already, the total is not the page's start or the job is not pending)."""
        first = store_base.page_start(items)
        params = {"ws": job.workspace_id, "job": job.job_id, "n": len(items), "first": first}
        with self._db.write() as conn:
            if not conn.execute(_APPEND, params).rowcount:
                stored = _job(conn, _JOB, job.workspace_id, job.job_id)
                raise store_base.append_refused(stored, job.job_id, first)
            _insert_items(conn, items)

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None:
        return _job(self._db.read(), _JOB, workspace_id, job_id)

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None:
        """The job an idempotency key of the workspace made, if any (`IdempotentLookup`)."""
        return _job(self._db.read(), _JOB_BY_KEY, workspace_id, key)

    async def _list_jobs(self, listing: JobListing) -> Page[Job]:
        """Newest first (created_at, then job id, both descending), through the `jobs_newest_first` index."""
        where = ["workspace_id = :ws"]
        params: dict[str, Any] = {"ws": listing.workspace_id, "limit": listing.limit + 1, "tag": listing.tag}
        after = listing.after()
        if after is not None:
            params["at"], params["id"] = after
            where.append("(created_at, job_id) < (:at, :id)")
        if listing.status is not None:
            params["status"] = listing.status.value
            where.append("status = :status")
        if listing.tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(jobs.tags) AS t WHERE t.value = :tag)")
        found = self._db.read().execute(_page_query("jobs", where, "created_at DESC, job_id DESC"), params)
        return listing.page([rows.job_from_row(row) for row in found.fetchall()])

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        with self._db.write() as conn:
            started = conn.execute(
                "UPDATE jobs SET status = 'running', started_at = ?"
                " WHERE workspace_id = ? AND job_id = ? AND status = 'pending'",
                (ts(now), workspace_id, job_id),
            ).rowcount
        return started == 1

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """Only the caller whose UPDATE made the change gets the job back."""
        return self._changed(_COMPLETE, {"ws": workspace_id, "job": job_id, "now": ts(now)})

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The cancelled job; a job already finished or cancelled comes back unchanged."""
        params = {"ws": workspace_id, "job": job_id, "cancellable": _CANCELLABLE}
        with self._db.write() as conn:
            row = _first(conn.execute(_CANCEL, params))
            if row is None:
                row = conn.execute(_JOB, (workspace_id, job_id)).fetchone()
        return rows.job_from_row(row) if row is not None else None

    async def _fail(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        params = {"ws": workspace_id, "job": job_id, "now": ts(now), "failable": job_rules.FAILABLE.value}
        return self._changed(_FAIL, params)

    async def _pause(self, workspace_id: str, job_id: str, reason: str) -> Job | None:
        params = {"ws": workspace_id, "job": job_id, "reason": reason}
        return self._changed(_PAUSE, {**params, "pausable": _PAUSABLE})

    async def _resume(self, workspace_id: str, job_id: str) -> Job | None:
        """The target (`job_rules.resumed_status`) is decided in the UPDATE, on the row it changes."""
        params = {"ws": workspace_id, "job": job_id, "paused": job_rules.RESUMABLE.value}
        params.update(pending=JobStatus.PENDING.value, running=JobStatus.RUNNING.value)
        return self._changed(_RESUME, params)

    async def _update(self, workspace_id: str, job_id: str, update: store_base.JobUpdate) -> Job | None:
        """The options and due time encoded as `job_params` stores them."""
        job = Job(workspace_id, job_id, JobStatus.PENDING, update.now, update.options, due_at=update.due_at)
        params = {column: value for column, value in rows.job_params(job).items() if column in _UPDATED}
        params.update(ws=workspace_id, job=job_id, updatable=_UPDATABLE)
        return self._changed(_UPDATE, {**params, "expected": opt_ts(update.expected_due_at)})

    async def _due(self, now: datetime, limit: int) -> list[Job]:
        """Through the `jobs_due` partial index, in its order: no sort, no scan of unscheduled jobs."""
        found = self._db.read().execute(_DUE, (ts(now), limit)).fetchall()
        return [rows.job_from_row(row) for row in found]

    async def _release_due(self, workspace_id: str, job_id: str, due_at: datetime) -> bool:
        with self._db.write() as conn:
            released = conn.execute(_RELEASE, {"ws": workspace_id, "job": job_id, "due": ts(due_at)}).rowcount
        return released == 1

    def _changed(self, sql: str, params: dict[str, Any]) -> Job | None:
        """One conditional `UPDATE ... RETURNING` of a job: the job as changed, None when nothing matched."""
        with self._db.write() as conn:
            row = _first(conn.execute(sql, params))
        return rows.job_from_row(row) if row is not None else None

    # --- items --------------------------------------------------------------------------------------------

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        row = self._db.read().execute(_ITEM, {"ws": workspace_id, "job": job_id, "item": item_id}).fetchone()
        return rows.item_from_row(row) if row is not None else None

    async def _list_items(self, listing: ItemListing) -> Page[Item]:
        """In input order (item ids are zero-padded), through the primary key, or the status index when a
        status is asked for."""
        where = ["workspace_id = :ws", "job_id = :job"]
        params: dict[str, Any] = {
            "ws": listing.workspace_id,
            "job": listing.job_id,
            "limit": listing.limit + 1,
        }
        if listing.status is not None:
            params["status"] = listing.status.value
            where.append("status = :status")
        after = listing.after()
        if after is not None:
            params["after"] = after
            where.append("item_id > :after")
        found = self._db.read().execute(_page_query("job_items", where, "item_id"), params)
        return listing.page([rows.item_from_row(row) for row in found.fetchall()])

    async def _claim(self, ref: ItemRef, token: str, lease_until: datetime, now: datetime) -> Item | None:
        """One conditional UPDATE: claimable (or its lease expired), and its job is there, neither cancelled
        nor paused."""
        params = _item(ref, token=token, lease_until=ts(lease_until), now=ts(now), claimable=_CLAIMABLE)
        params["holds"] = _HOLDS
        with self._db.write() as conn:
            row = _first(conn.execute(_CLAIM, params))
        return rows.item_from_row(row) if row is not None else None

    async def _finish(self, item: Item, token: str, finish: Finish) -> bool:
        """The terminal item update, the job's counters and the workspace's activity minute: one
        transaction."""
        outcome = _item(ItemRef.of(item), token=token, status=finish.status.value, reason=finish.reason)
        outcome.update(result=rows.result_text(finish.result), now=ts(finish.now))
        with self._db.write() as conn:
            if not conn.execute(_FINISH, outcome).rowcount:
                return False
            _add_counters(conn, item.workspace_id, item.job_id, finish.delta)
            _count_activity(conn, item.workspace_id, finish.delta, finish.now)
        return True

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        """The minute rows from `since`'s minute to `now`'s (at most 61 for an hour)."""
        window = (workspace_id, activity_minute(since), activity_minute(now))
        return activity_of(dict(self._db.read().execute(_ACTIVITY, window).fetchone()))

    async def _defer(self, item: Item, token: str, deferral: Deferral) -> bool:
        """Every deferral, hand-backs included, is an outcome and marks `sent_next`; what the attempt spent
        is counted on the job in the same transaction, once."""
        change = _item(ItemRef.of(item), token=token, reason=deferral.reason, now=ts(deferral.now))
        change.update(next=ts(deferral.next_attempt_at), charge=int(deferral.charge_attempt))
        with self._db.write() as conn:
            if not conn.execute(_DEFER, change).rowcount:
                return False
            if deferral.spent is not None:
                _add_counters(conn, item.workspace_id, item.job_id, deferral.spent)
        return True

    async def _skip(self, ref: ItemRef, reason: str, now: datetime) -> bool:
        """Counted processed once, `sent_next`; not activity: it never ran."""
        params = _item(ref, reason=reason, now=ts(now), skippable=_SKIPPABLE)
        with self._db.write() as conn:
            if not conn.execute(_SKIP, params).rowcount:
                return False
            _add_counters(conn, ref.workspace_id, ref.job_id, CounterDelta(processed=1))
        return True

    async def _requeue(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """One transaction: the items in `statuses` back to queued (attempts 0, no reason or result), the
        job's counters taken back and the job running again. Nothing changes when no item is in those
        statuses."""
        params = {"ws": workspace_id, "job": job_id, "statuses": _statuses(statuses), "now": ts(now)}
        with self._db.write() as conn:
            counts = {ItemStatus(status): n for status, n in conn.execute(_REQUEUE_COUNTS, params).fetchall()}
            if not counts:
                return []
            requeued = conn.execute(_REQUEUE, params).fetchall()
            _add_counters(conn, workspace_id, job_id, taken_back(counts))
            conn.execute(
                "UPDATE jobs SET status = 'running', completed_at = NULL"
                " WHERE workspace_id = ? AND job_id = ?",
                (workspace_id, job_id),
            )
        return sorted((rows.item_from_row(row) for row in requeued), key=lambda i: i.item_id)

    def release_leases(self, now: datetime) -> int:
        """Not the port's: for the local stack's start, when the process holding the file's state died with
        items running. Every lease still held after `now` expires at `now` (status, token and attempts kept),
        so a claim or skip after `now` takes the item as from a dead processor. Scans every item once.
        Returns how many were released."""
        with self._db.write() as conn:
            released = conn.execute(
                "UPDATE job_items SET lease_until = :now, updated_at = :now"
                " WHERE status = 'running' AND lease_until > :now",
                {"now": ts(now)},
            ).rowcount
        return int(released)


__all__ = ["JOB_CONTROL_COLUMNS", "SCHEMA_NAME", "SqliteJobStore"]
