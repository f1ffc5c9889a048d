"""The embedded stack's retention purge (`jobs.retention.RetentionPurge`): SQLite has no TTL, so the
processor deletes what is past its period, at most once an hour (`RetentionSchedule`).

What goes, by the workspace's `WorkspaceSettings` (docs/privacy.md "Retention"):
- a finished item (terminal status) whose last change is older than `results_retention_days`, whatever its
  job's state, as the DynamoDB TTL set at the finish does;
- a finished job (completed, failed, cancelled) that ended longer ago than that, with whatever items it
  still has (a cancelled job's never-run ones);
- cache rows past their expiry, and those the cap (the shortest `cache_retention_days`) ends sooner: their
  expiry is brought forward to it;
- the webhook log's expired rows (events, attempts, once-markers), which the log itself only ignores.

When a job ended: its `completed_at` when completed. The store records no time for a cancel or a failed
creation, so the purge notes the first time it sees a job finished (`retention_finished`, one row per
finished job, within an hour of the end) and counts from there; a note is dropped when the job is reopened
(a retry) and with the job. Each kind of row is deleted `batch` at a time, each batch its own short
`BEGIN IMMEDIATE` transaction, so the processor's writes are never held up for long.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from leadenrich.jobs.encoding import ts
from leadenrich.jobs.models import TERMINAL, JobStatus
from leadenrich.jobs.retention import DAY_SECONDS, PurgeReport, RetentionPolicy
from leadenrich.sqlite.db import Database

FINISHED_JOBS = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
WEBHOOK_TABLES = ("webhook_events", "webhook_attempts", "webhook_once")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS retention_finished (
    workspace_id TEXT NOT NULL,
    job_id       TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    PRIMARY KEY (workspace_id, job_id)
) WITHOUT ROWID;
"""
# The cutoff of the row's workspace (`alias.workspace_id`): its own, else the default's.
_CUTOFF = "coalesce((SELECT value FROM json_each(:cutoffs) WHERE key = {alias}.workspace_id), :default)"
_FINISHED = "(SELECT value FROM json_each(:finished))"
_FORGET = f"""
DELETE FROM retention_finished WHERE NOT EXISTS (
    SELECT 1 FROM jobs AS j WHERE j.workspace_id = retention_finished.workspace_id
        AND j.job_id = retention_finished.job_id AND j.status IN {_FINISHED}
)"""  # noqa: S608 - our own fragments
_NOTE = f"""
INSERT INTO retention_finished (workspace_id, job_id, finished_at)
SELECT workspace_id, job_id, coalesce(completed_at, :now) FROM jobs WHERE status IN {_FINISHED}
ON CONFLICT (workspace_id, job_id) DO NOTHING"""  # noqa: S608
# Finished jobs past their period (a completed one by its current completed_at: a retry reopens and
# completes it again).
_EXPIRED_JOBS = f"""
SELECT j.workspace_id, j.job_id FROM jobs AS j
JOIN retention_finished AS m ON m.workspace_id = j.workspace_id AND m.job_id = j.job_id
WHERE j.status IN {_FINISHED} AND coalesce(j.completed_at, m.finished_at) < {_CUTOFF.format(alias="j")}"""  # noqa: S608
_ITEMS = f"""
DELETE FROM job_items WHERE rowid IN (
    SELECT i.rowid FROM job_items AS i
    WHERE (i.status IN (SELECT value FROM json_each(:terminal))
            AND i.updated_at < {_CUTOFF.format(alias="i")})
        OR EXISTS (
            SELECT 1 FROM ({_EXPIRED_JOBS}) AS e WHERE e.workspace_id = i.workspace_id AND e.job_id = i.job_id
        )
    LIMIT :batch
)"""  # noqa: S608
_JOBS = f"""
DELETE FROM jobs WHERE rowid IN (
    SELECT j.rowid FROM jobs AS j
    WHERE EXISTS (
            SELECT 1 FROM ({_EXPIRED_JOBS}) AS e WHERE e.workspace_id = j.workspace_id AND e.job_id = j.job_id
        )
        AND NOT EXISTS (
            SELECT 1 FROM job_items AS i WHERE i.workspace_id = j.workspace_id AND i.job_id = j.job_id
        )
    LIMIT :batch
)
RETURNING workspace_id, job_id"""  # noqa: S608


def _statuses(values: Iterable[str]) -> str:
    return json.dumps(sorted(values))


class SqliteRetentionPurge:
    """See the module docstring. Tables an adapter has not made yet (a file without a cache) are skipped."""

    name = "sqlite"

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("retention", _SCHEMA)

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport:
        tables = {
            row[0] for row in self._db.read().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        deleted: dict[str, int] = {}
        more = False
        if {"jobs", "job_items"} <= tables:
            items, jobs = self._jobs(now, policy, batch)
            deleted |= {"job_items": items, "jobs": jobs}
            more = items >= batch or jobs >= batch
        epoch = now.timestamp()
        if "cache" in tables:
            cap = epoch + policy.cache_days() * DAY_SECONDS
            with self._db.write() as conn:
                deleted["cache"] = conn.execute("DELETE FROM cache WHERE expires_at <= ?", (epoch,)).rowcount
                conn.execute("UPDATE cache SET expires_at = ? WHERE expires_at > ?", (cap, cap))
        hooks = [table for table in WEBHOOK_TABLES if table in tables]
        if hooks:
            with self._db.write() as conn:
                deleted["webhooks"] = sum(
                    conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (epoch,)).rowcount  # noqa: S608
                    for table in hooks
                )
        return PurgeReport(deleted, more)

    def _jobs(self, now: datetime, policy: RetentionPolicy, batch: int) -> tuple[int, int]:
        """One batch of items, then one of jobs left without items; (items, jobs) deleted."""

        def cutoff(days: int) -> str:
            return ts(now - timedelta(days=days))

        params = {
            "now": ts(now),
            "batch": batch,
            "finished": _statuses(FINISHED_JOBS),
            "terminal": _statuses(TERMINAL),
            "default": cutoff(policy.default.results_retention_days),
            "cutoffs": json.dumps(
                {ws: cutoff(s.results_retention_days) for ws, s in policy.workspaces.items()}
            ),
        }
        with self._db.write() as conn:
            conn.execute(_FORGET, params)
            conn.execute(_NOTE, params)
        with self._db.write() as conn:
            items = conn.execute(_ITEMS, params).rowcount
        with self._db.write() as conn:
            gone = conn.execute(_JOBS, params).fetchall()
            conn.executemany(
                "DELETE FROM retention_finished WHERE workspace_id = ? AND job_id = ?",
                [(row["workspace_id"], row["job_id"]) for row in gone],
            )
        return items, len(gone)


__all__ = ["FINISHED_JOBS", "WEBHOOK_TABLES", "SqliteRetentionPurge"]
