"""`JobStore` on the embedded local stack's SQLite file (`leadenrich.sqlite.db.Database`).

The tables, their indexes and the row encoding are in `leadenrich.sqlite.job_rows`.

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
from datetime import datetime, timedelta
from typing import Any

from leadenrich.jobs.models import TERMINAL, Item, ItemStatus, Job, JobStatus, Page
from leadenrich.jobs.ports import Activity, CounterDelta, IdempotencyConflict
from leadenrich.sqlite import job_rows as rows
from leadenrich.sqlite.db import Database

SCHEMA_NAME = "job_store"
ACTIVITY_KEPT = timedelta(days=2)

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
# Claimable: queued or deferred, or running with a lease that expired before `now` (its processor died).
_CLAIM = """
UPDATE job_items SET status = 'running', lease_token = :token, lease_until = :lease_until,
    attempts = attempts + 1, next_attempt_at = NULL, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND (status IN ('queued', 'deferred') OR (status = 'running' AND lease_until < :now))
    AND EXISTS (
        SELECT 1 FROM jobs AS j WHERE j.workspace_id = :ws AND j.job_id = :job AND j.status <> 'cancelled'
    )
RETURNING *"""
# Held: running with the caller's lease token.
_FINISH = """
UPDATE job_items SET status = :status, reason = :reason, result = :result, lease_token = NULL,
    lease_until = NULL, next_attempt_at = NULL, sent_next = 1, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND status = 'running' AND lease_token = :token"""
_DEFER = """
UPDATE job_items SET status = 'deferred', reason = :reason, next_attempt_at = :next, lease_token = NULL,
    lease_until = NULL, sent_next = 1, updated_at = :now,
    attempts = CASE WHEN :charge THEN attempts ELSE max(attempts - 1, 0) END
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND status = 'running' AND lease_token = :token"""
_SKIP = """
UPDATE job_items SET status = 'skipped', reason = :reason, next_attempt_at = NULL, lease_token = NULL,
    lease_until = NULL, sent_next = 1, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item
    AND (status IN ('queued', 'deferred') OR (status = 'running' AND lease_until < :now))"""
# :statuses is a JSON array of item statuses.
_REQUEUE_COUNTS = """
SELECT status, count(*) FROM job_items
WHERE workspace_id = :ws AND job_id = :job AND status IN (SELECT value FROM json_each(:statuses))
GROUP BY status"""
_REQUEUE = """
UPDATE job_items SET status = 'queued', attempts = 0, reason = NULL, result = NULL, lease_token = NULL,
    lease_until = NULL, next_attempt_at = NULL, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND status IN (SELECT value FROM json_each(:statuses))
RETURNING *"""


def _first(cursor: sqlite3.Cursor) -> sqlite3.Row | None:
    """The first row, reading them all: an `UPDATE ... RETURNING` must be stepped to its end before the
    transaction commits."""
    found: list[sqlite3.Row] = cursor.fetchall()
    return found[0] if found else None


def _job(conn: sqlite3.Connection, sql: str, workspace_id: str, value: str) -> Job | None:
    """The workspace's job by id (`_JOB`) or idempotency key (`_JOB_BY_KEY`): both unique per workspace."""
    row = conn.execute(sql, (workspace_id, value)).fetchone()
    return rows.job_from_row(row) if row is not None else None


def _check_items(job: Job, items: Iterable[Item]) -> None:
    for item in items:
        if (item.workspace_id, item.job_id) != (job.workspace_id, job.job_id):
            raise ValueError(f"items: item {item.item_id} belongs to another job")


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
    params.update({name: getattr(delta, name) for name in rows.INT_COUNTERS if name != "total"})
    floats = {name: getattr(delta, name) for name in rows.FLOAT_COUNTERS}
    params.update(dict.fromkeys(floats))
    if any(floats.values()):
        stored = conn.execute(_JOB, (workspace_id, job_id)).fetchone()
        if stored is not None:
            params.update({n: rows.add_decimal(stored[n], v) for n, v in floats.items() if v})
    conn.execute(_ADD_COUNTERS, params)


def _count_activity(conn: sqlite3.Connection, workspace_id: str, delta: CounterDelta, now: datetime) -> None:
    """Add the finish to its minute's row; a minute's first finish makes the row and prunes old ones."""
    params = (delta.processed, delta.found, delta.failed, workspace_id, rows.minute(now))
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
            (workspace_id, rows.minute(now - ACTIVITY_KEPT)),
        )


def _page_query(table: str, where: list[str], order: str) -> str:
    # Only this module's constant fragments are joined; every value is a bound parameter.
    return f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :limit"  # noqa: S608


class SqliteJobStore:
    """The SQLite adapter of `JobStore`, `ItemAppender` and `IdempotentLookup`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(SCHEMA_NAME, rows.SCHEMA)
        rows.add_missing_columns(db)

    # --- jobs ---------------------------------------------------------------------------------------------

    async def create_job(self, job: Job, items: Sequence[Item]) -> Job:
        """The job and all its items in one transaction (one executemany): an idempotency conflict, a taken
        job id or a duplicate item id stores nothing. The stored total is the number of items given."""
        _check_items(job, items)
        with self._db.write() as conn:
            if job.idempotency_key is not None:
                existing = _job(conn, _JOB_BY_KEY, job.workspace_id, job.idempotency_key)
                if existing is not None:
                    raise IdempotencyConflict(existing)
            if _job(conn, _JOB, job.workspace_id, job.job_id) is not None:
                raise ValueError(f"job_id: job {job.job_id} exists")
            params = rows.job_params(job)
            params["total"] = len(items)
            conn.execute(rows.INSERT_JOB, params)
            _insert_items(conn, items)
            stored = _job(conn, _JOB, job.workspace_id, job.job_id)
        assert stored is not None
        return stored

    async def append_items(self, job: Job, items: Sequence[Item]) -> None:
        """More items of a pending job, and their count added to its total, in one transaction; ValueError
        (nothing written) when an item belongs elsewhere or is stored already, or the job is not pending."""
        _check_items(job, items)
        if not items:
            return
        with self._db.write() as conn:
            grown = conn.execute(
                "UPDATE jobs SET total = total + ? WHERE workspace_id = ? AND job_id = ? AND status = ?",
                (len(items), job.workspace_id, job.job_id, JobStatus.PENDING.value),
            ).rowcount
            if not grown:
                raise ValueError(f"job_id: job {job.job_id} is not a pending job of the workspace")
            _insert_items(conn, items)

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None:
        return _job(self._db.read(), _JOB, workspace_id, job_id)

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None:
        """The job an idempotency key of the workspace made, if any (`IdempotentLookup`)."""
        return _job(self._db.read(), _JOB_BY_KEY, workspace_id, key)

    async def list_jobs(
        self,
        workspace_id: str,
        *,
        status: JobStatus | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        """Newest first (created_at, then job id, both descending); the cursor holds the last job's pair."""
        rows.check_limit(limit)
        where = ["workspace_id = :ws"]
        params: dict[str, Any] = {"ws": workspace_id, "limit": limit + 1, "status": None, "tag": tag}
        if cursor is not None:
            after = rows.decode_cursor(cursor, {"list": "jobs", "ws": workspace_id}, ("at", "id"))
            params["at"] = rows.cursor_ts(after["at"])
            params["id"] = after["id"]
            where.append("(created_at, job_id) < (:at, :id)")
        if status is not None:
            params["status"] = status.value
            where.append("status = :status")
        if tag is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(jobs.tags) AS t WHERE t.value = :tag)")
        query = _page_query("jobs", where, "created_at DESC, job_id DESC")
        found = self._db.read().execute(query, params).fetchall()
        jobs = [rows.job_from_row(row) for row in found[:limit]]
        next_cursor = None
        if len(found) > limit:
            last = jobs[-1]
            next_cursor = rows.encode_cursor(
                {"list": "jobs", "ws": workspace_id, "at": rows.ts(last.created_at), "id": last.job_id}
            )
        return Page(items=jobs, cursor=next_cursor)

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        with self._db.write() as conn:
            started = conn.execute(
                "UPDATE jobs SET status = 'running', started_at = ?"
                " WHERE workspace_id = ? AND job_id = ? AND status = 'pending'",
                (rows.ts(now), workspace_id, job_id),
            ).rowcount
        return started == 1

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """Only the caller whose UPDATE made the change gets the job back."""
        with self._db.write() as conn:
            row = _first(
                conn.execute(
                    "UPDATE jobs SET status = 'completed', completed_at = ?"
                    " WHERE workspace_id = ? AND job_id = ? AND status IN ('pending', 'running')"
                    " AND processed >= total RETURNING *",
                    (rows.ts(now), workspace_id, job_id),
                )
            )
        return rows.job_from_row(row) if row is not None else None

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The cancelled job; a job already finished or cancelled comes back unchanged."""
        with self._db.write() as conn:
            row = _first(
                conn.execute(
                    "UPDATE jobs SET status = 'cancelled'"
                    " WHERE workspace_id = ? AND job_id = ? AND status IN ('pending', 'running') RETURNING *",
                    (workspace_id, job_id),
                )
            )
            if row is None:
                row = conn.execute(_JOB, (workspace_id, job_id)).fetchone()
        return rows.job_from_row(row) if row is not None else None

    # --- items --------------------------------------------------------------------------------------------

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        row = self._db.read().execute(_ITEM, {"ws": workspace_id, "job": job_id, "item": item_id}).fetchone()
        return rows.item_from_row(row) if row is not None else None

    async def list_items(
        self,
        workspace_id: str,
        job_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Item]:
        """In input order (item ids are zero-padded); the cursor holds the last item's id. Read through the
        primary key, or the status index when a status is asked for."""
        rows.check_limit(limit)
        where = ["workspace_id = :ws", "job_id = :job"]
        params: dict[str, Any] = {"ws": workspace_id, "job": job_id, "limit": limit + 1}
        if status is not None:
            params["status"] = status.value
            where.append("status = :status")
        if cursor is not None:
            scope = {"list": "items", "ws": workspace_id, "job": job_id}
            params["after"] = rows.decode_cursor(cursor, scope, ("id",))["id"]
            where.append("item_id > :after")
        found = self._db.read().execute(_page_query("job_items", where, "item_id"), params).fetchall()
        items = [rows.item_from_row(row) for row in found[:limit]]
        next_cursor = None
        if len(found) > limit:
            next_cursor = rows.encode_cursor(
                {"list": "items", "ws": workspace_id, "job": job_id, "id": items[-1].item_id}
            )
        return Page(items=items, cursor=next_cursor)

    async def claim_item(
        self,
        workspace_id: str,
        job_id: str,
        item_id: str,
        *,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> Item | None:
        """One conditional UPDATE: claimable (or its lease expired), and its job is there, not cancelled."""
        key = {"ws": workspace_id, "job": job_id, "item": item_id, "token": token}
        with self._db.write() as conn:
            row = _first(
                conn.execute(_CLAIM, {**key, "lease_until": rows.ts(lease_until), "now": rows.ts(now)})
            )
        return rows.item_from_row(row) if row is not None else None

    async def finish_item(
        self,
        item: Item,
        status: ItemStatus,
        *,
        reason: str | None,
        result: dict[str, object] | None,
        delta: CounterDelta,
        now: datetime,
    ) -> bool:
        """The terminal item update (held by `item.lease_token`), the job's counters and the workspace's
        activity minute: one transaction."""
        if not status.terminal:
            raise ValueError(f"status: {status.value} is not terminal")
        if item.lease_token is None:
            return False
        with self._db.write() as conn:
            changed = conn.execute(
                _FINISH,
                {
                    **_item_key(item),
                    "status": status.value,
                    "reason": reason,
                    "result": rows.result_text(result),
                    "now": rows.ts(now),
                },
            ).rowcount
            if not changed:
                return False
            _add_counters(conn, item.workspace_id, item.job_id, delta)
            _count_activity(conn, item.workspace_id, delta, now)
        return True

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        """The minute rows from `since`'s minute to `now`'s (at most 61 for an hour)."""
        row = (
            self._db.read()
            .execute(
                "SELECT coalesce(sum(processed), 0), coalesce(sum(found), 0), coalesce(sum(failed), 0)"
                " FROM job_activity WHERE workspace_id = ? AND minute BETWEEN ? AND ?",
                (workspace_id, rows.minute(since), rows.minute(now)),
            )
            .fetchone()
        )
        return Activity(processed=int(row[0]), found=int(row[1]), failed=int(row[2]))

    async def defer_item(
        self,
        item: Item,
        *,
        reason: str,
        next_attempt_at: datetime,
        charge_attempt: bool,
        now: datetime,
        spent: CounterDelta | None = None,
    ) -> bool:
        """Every deferral, hand-backs included, is an outcome and marks `sent_next`; what the attempt spent
        is counted on the job in the same transaction, once."""
        if item.lease_token is None:
            return False
        with self._db.write() as conn:
            changed = conn.execute(
                _DEFER,
                {
                    **_item_key(item),
                    "reason": reason,
                    "next": rows.ts(next_attempt_at),
                    "now": rows.ts(now),
                    "charge": int(charge_attempt),
                },
            ).rowcount
            if not changed:
                return False
            if spent is not None:
                _add_counters(conn, item.workspace_id, item.job_id, spent)
        return True

    async def skip_item(
        self, workspace_id: str, job_id: str, item_id: str, *, reason: str, now: datetime
    ) -> bool:
        """Queued or deferred, or running with an expired lease (its processor died, and no claim takes an
        item of a cancelled job): skipped, counted processed once, `sent_next`. Not activity: it never ran."""
        with self._db.write() as conn:
            changed = conn.execute(
                _SKIP,
                {"ws": workspace_id, "job": job_id, "item": item_id, "reason": reason, "now": rows.ts(now)},
            ).rowcount
            if not changed:
                return False
            _add_counters(conn, workspace_id, job_id, CounterDelta(processed=1))
        return True

    async def requeue_items(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """One transaction: the items in `statuses` back to queued (attempts 0, no reason or result), the
        job's counters taken back (processed; failed for failed and dead; found, risky) and the job
        running again. Nothing changes when no item is in those statuses."""
        if not statuses <= TERMINAL:
            raise ValueError("statuses: only terminal items can be requeued")
        if not statuses:
            return []
        params = {
            "ws": workspace_id,
            "job": job_id,
            "statuses": json.dumps(sorted(s.value for s in statuses)),
            "now": rows.ts(now),
        }
        with self._db.write() as conn:
            counts = dict(conn.execute(_REQUEUE_COUNTS, params).fetchall())
            if not counts:
                return []
            requeued = conn.execute(_REQUEUE, params).fetchall()
            failed = counts.get(ItemStatus.FAILED.value, 0) + counts.get(ItemStatus.DEAD.value, 0)
            taken_back = CounterDelta(
                processed=-sum(counts.values()),
                failed=-failed,
                found=-counts.get(ItemStatus.FOUND.value, 0),
                risky=-counts.get(ItemStatus.RISKY.value, 0),
            )
            _add_counters(conn, workspace_id, job_id, taken_back)
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
                {"now": rows.ts(now)},
            ).rowcount
        return int(released)


def _item_key(item: Item) -> dict[str, Any]:
    return {"ws": item.workspace_id, "job": item.job_id, "item": item.item_id, "token": item.lease_token}


__all__ = ["ACTIVITY_KEPT", "SCHEMA_NAME", "SqliteJobStore"]
