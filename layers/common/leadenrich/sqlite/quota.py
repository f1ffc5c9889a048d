"""`LeadQuota` in the embedded SQLite file: one counter row per workspace and UTC day.

A reservation is one upsert that adds only while the sum stays within the limit (`ON CONFLICT ... DO UPDATE
... WHERE`), in a `BEGIN IMMEDIATE` transaction: two API requests at once (threads of the local gateway,
or the command line) can never both pass the limit, as DynamoDB's conditional ADD guarantees. A release
subtracts without a condition, as DynamoDB's `ADD leads -n` does, but only from a counter that exists: a
day with nothing reserved has nothing to give back (DynamoDB would create a negative counter).

A reservation also deletes the days whose DynamoDB row would have expired by then (`KEEP_DAYS` after the
day began), in the same transaction: the role the table's TTL plays, so the file does not grow by a row
per workspace every day.
"""

from __future__ import annotations

from datetime import date, timedelta

from leadenrich.sqlite.db import Database

KEEP_DAYS = 2  # as the DynamoDB rows' TTL: today's and yesterday's counters stay

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lead_quota (
    workspace_id TEXT NOT NULL,
    day          TEXT NOT NULL,
    leads        INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, day)
);
CREATE INDEX IF NOT EXISTS lead_quota_by_day ON lead_quota (day);
"""


class SqliteLeadQuota:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("lead_quota", _SCHEMA)

    async def reserve(self, workspace_id: str, day: date, count: int, limit: int) -> bool:
        if count <= 0:
            return True
        if count > limit:
            return False
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM lead_quota WHERE day <= ?", ((day - timedelta(days=KEEP_DAYS)).isoformat(),)
            )
            taken = conn.execute(
                "INSERT INTO lead_quota (workspace_id, day, leads) VALUES (?, ?, ?)"
                " ON CONFLICT (workspace_id, day) DO UPDATE SET leads = leads + excluded.leads"
                " WHERE leads + excluded.leads <= ? RETURNING leads",
                (workspace_id, day.isoformat(), count, limit),
            ).fetchall()  # read to the end inside the block: the statement must finish before COMMIT
        return bool(taken)

    async def release(self, workspace_id: str, day: date, count: int) -> None:
        if count <= 0:
            return
        with self._db.write() as conn:
            conn.execute(
                "UPDATE lead_quota SET leads = leads - ? WHERE workspace_id = ? AND day = ?",
                (count, workspace_id, day.isoformat()),
            )

    async def used(self, workspace_id: str, day: date) -> int:
        row = (
            self._db.read()
            .execute(
                "SELECT leads FROM lead_quota WHERE workspace_id = ? AND day = ?",
                (workspace_id, day.isoformat()),
            )
            .fetchone()
        )
        return int(row["leads"]) if row else 0


__all__ = ["KEEP_DAYS", "SqliteLeadQuota"]
