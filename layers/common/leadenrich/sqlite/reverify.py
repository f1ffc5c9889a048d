"""The re-verification sweep's place in the embedded SQLite file (`leadenrich.reverify.ports.ReverifyPlace`;
docs/reverification.md): the workspace's job item results, by the rules of `reverify.rules`.

Selection reads the workspace's items only (the primary key starts with the workspace), unpacking each
result's `emails` with `json_each` and grouping by address in SQL: one statement, no row leaves SQLite that
is not stale. A verdict is written in one write transaction (`BEGIN IMMEDIATE`), as a bounce's mark is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from leadenrich.jobs.encoding import ts
from leadenrich.reverify import rules
from leadenrich.reverify.ports import Rewrite, StaleAddress
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_rows import item_from_row, result_text

PLACE = "job_items"
_UNIX_EPOCH_JULIAN = 2440587.5

_STALE = """
SELECT lower(json_extract(e.value, '$.email')) AS email,
       min(julianday(json_extract(e.value, '$.verified_at'))) AS oldest,
       count(DISTINCT i.job_id || '/' || i.item_id) AS uses
FROM job_items AS i, json_each(i.result, '$.emails') AS e
WHERE i.workspace_id = ? AND i.result IS NOT NULL AND json_valid(i.result)
  AND json_type(i.result, '$.emails') = 'array'
  AND json_extract(e.value, '$.verified_at') IS NOT NULL
  AND julianday(json_extract(e.value, '$.verified_at')) < julianday(?)
GROUP BY 1
ORDER BY oldest, uses DESC, email
LIMIT ?
"""


def _from_julian(day: float) -> datetime:
    return datetime.fromtimestamp((day - _UNIX_EPOCH_JULIAN) * 86_400, UTC)


class SqliteReverifyPlace:
    """See the module docstring."""

    name = PLACE

    def __init__(self, db: Database) -> None:
        self._db = db

    def _has_items(self) -> bool:
        row = self._db.connection().execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'job_items'"
        )
        return row.fetchone() is not None

    async def stale(self, workspace_id: str, before: datetime, limit: int) -> list[StaleAddress]:
        if limit <= 0 or not self._has_items():
            return []
        params = (workspace_id, before.astimezone(UTC).isoformat(), limit)
        rows = self._db.connection().execute(_STALE, params).fetchall()
        return [StaleAddress(str(r[0]), _from_julian(float(r[1])), int(r[2])) for r in rows if r[0]]

    async def apply(
        self, workspace_id: str, email: str, verdict: rules.Verdict, now: datetime
    ) -> list[Rewrite]:
        email = email.lower()
        rewrites: list[Rewrite] = []
        if not self._has_items():
            return rewrites
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT * FROM job_items WHERE workspace_id = ? AND result IS NOT NULL"
                " AND instr(lower(result), ?) > 0 ORDER BY job_id, item_id",
                (workspace_id, email),
            ).fetchall()
            for row in rows:
                item = item_from_row(row)
                written = rules.rewritten(item.result, email, verdict)
                if written is None:
                    continue
                result, before = written
                conn.execute(
                    "UPDATE job_items SET result = ?, updated_at = ?"
                    " WHERE workspace_id = ? AND job_id = ? AND item_id = ?",
                    (result_text(result), ts(now), workspace_id, item.job_id, item.item_id),
                )
                rewrites += [
                    Rewrite(PLACE, email, b, b.graded() != verdict.graded(), item.job_id, item.lead_id)
                    for b in before
                ]
        return rewrites


__all__ = ["SqliteReverifyPlace"]
