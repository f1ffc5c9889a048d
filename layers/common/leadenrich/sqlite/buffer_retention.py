"""The lead buffer's retention purge on the embedded SQLite file (`jobs.retention.RetentionPurge`, run
hourly by the processor's `RetentionSchedule`): SQLite has no TTL, so what is past its period is deleted
here, by each workspace's periods in force (`buffer.retention`; docs/privacy.md "Retention").

- a lead waiting to be served (buffered, or claimed under a lease that has run out) pushed longer ago than
  `results_retention_days`; a claim whose lease still runs is left to its caller;
- a served lead last changed (served, or re-enriched by a retried run) longer ago than its period: the
  results period, or the unverified one when its enrichment found addresses and none is verified;
- a registry entry (`buffer_served`) served longer ago than `REGISTRY_DAYS`.

Each kind is deleted `batch` rows at a time, each batch its own short `BEGIN IMMEDIATE` transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from leadenrich.buffer.retention import REGISTRY_DAYS
from leadenrich.jobs.encoding import ts
from leadenrich.jobs.retention import PurgeReport, RetentionPolicy
from leadenrich.sqlite.db import Database

# The row's workspace's cutoff in `:{name}` (a JSON object by workspace), else `:{name}_default`.
_CUTOFF = "coalesce((SELECT value FROM json_each(:{name}) WHERE key = b.workspace_id), :{name}_default)"
_UNVERIFIED_ONLY = (
    "coalesce(json_array_length(b.result, '$.emails'), 0) > 0 AND NOT EXISTS ("
    "SELECT 1 FROM json_each(b.result, '$.emails') AS e WHERE json_extract(e.value, '$.status') = 'active')"
)
_LEADS = f"""
DELETE FROM buffer_leads WHERE rowid IN (
    SELECT b.rowid FROM buffer_leads AS b
    WHERE ((b.state = 'buffered' OR (b.state = 'claimed' AND b.lease_until < :now))
            AND b.pushed_at < {_CUTOFF.format(name="results")})
        OR (b.state = 'served' AND b.updated_at < CASE WHEN {_UNVERIFIED_ONLY}
            THEN {_CUTOFF.format(name="unverified")} ELSE {_CUTOFF.format(name="results")} END)
    LIMIT :batch
)"""  # noqa: S608 - our own fragments
_REGISTRY = """
DELETE FROM buffer_served WHERE rowid IN (
    SELECT rowid FROM buffer_served WHERE served_at < :registry LIMIT :batch
)"""


class SqliteBufferPurge:
    """See the module docstring. A file without the buffer's tables is skipped."""

    name = "sqlite_buffer"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport:
        tables = {
            row[0] for row in self._db.read().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not {"buffer_leads", "buffer_served"} <= tables:
            return PurgeReport({})

        def cutoff(days: int) -> str:
            return ts(now - timedelta(days=days))

        def unverified(days: int, results: int) -> str:
            return cutoff(min(days, results))

        default = policy.default
        params = {
            "now": ts(now),
            "batch": batch,
            "results": json.dumps(
                {ws: cutoff(s.results_retention_days) for ws, s in policy.workspaces.items()}
            ),
            "results_default": cutoff(default.results_retention_days),
            "unverified": json.dumps(
                {
                    ws: unverified(s.unverified_retention_days, s.results_retention_days)
                    for ws, s in policy.workspaces.items()
                }
            ),
            "unverified_default": unverified(
                default.unverified_retention_days, default.results_retention_days
            ),
            "registry": cutoff(REGISTRY_DAYS),
        }
        with self._db.write() as conn:
            leads = conn.execute(_LEADS, params).rowcount
        with self._db.write() as conn:
            registry = conn.execute(_REGISTRY, params).rowcount
        return PurgeReport(
            {"buffer_leads": leads, "buffer_registry": registry}, leads >= batch or registry >= batch
        )


__all__ = ["SqliteBufferPurge"]
