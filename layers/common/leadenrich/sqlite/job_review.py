"""The SQLite job store's part of contact approval and lawful basis (`leadenrich.privacy.review`): the jobs'
`lawful_basis` column, the review queue's index, and the compare-and-set of an item's result.

Why so: the review state lives in the item's result (JSON text), so the queue is a partial index on the
result's `review_pending` (only items with a pending address have an entry; a workspace's queue is read in
(job id, item id) order without touching its other items), and a decision replaces the result in one
`BEGIN IMMEDIATE` transaction that reads it first: the write lock makes read-compare-write atomic, and the
comparison is of decoded JSON, so it does not depend on how the text was spelt.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from leadenrich.jobs.encoding import ts
from leadenrich.jobs.models import Item, Page
from leadenrich.jobs.store_base import ItemRef, ReviewListing
from leadenrich.sqlite import job_rows as rows
from leadenrich.sqlite.db import Database, add_missing_columns

# Added to a state file of any age (jobs made before read as the default basis).
PRIVACY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("jobs", "lawful_basis", "TEXT NOT NULL DEFAULT 'legitimate_interest'"),
)
_PENDING = "json_extract(result, '$.review_pending') > 0"  # the index's condition, written the same below
_REVIEW_INDEX = f"""
CREATE INDEX IF NOT EXISTS job_items_review ON job_items (workspace_id, job_id, item_id) WHERE {_PENDING};"""
_RESULT = "SELECT result FROM job_items WHERE workspace_id = :ws AND job_id = :job AND item_id = :item"
_REPLACE = """
UPDATE job_items SET result = :result, updated_at = :now
WHERE workspace_id = :ws AND job_id = :job AND item_id = :item"""
_QUEUE = f"""
SELECT * FROM job_items WHERE workspace_id = :ws AND {_PENDING} AND (job_id, item_id) > (:job, :item)
ORDER BY workspace_id, job_id, item_id LIMIT :limit"""  # noqa: S608 - our own constant


def prepare(db: Database) -> None:
    """The columns and the index, on a fresh file and on one an older version made."""
    add_missing_columns(db, PRIVACY_COLUMNS)
    db.ensure_schema("job_store.review", _REVIEW_INDEX)


class SqliteReview:
    """`JobStoreBase`'s review steps for `SqliteJobStore` (a base of it)."""

    _db: Database

    async def _replace_result(
        self, ref: ItemRef, expected: dict[str, Any], result: dict[str, Any], now: datetime
    ) -> bool:
        key = {"ws": ref.workspace_id, "job": ref.job_id, "item": ref.item_id}
        with self._db.write() as conn:
            row = conn.execute(_RESULT, key).fetchone()
            if row is None or row["result"] is None or json.loads(row["result"]) != expected:
                return False
            conn.execute(_REPLACE, {**key, "result": rows.result_text(result), "now": ts(now)})
        return True

    async def _review_queue(self, listing: ReviewListing) -> Page[Item]:
        """Through `job_items_review`: its condition is the query's, so SQLite reads only indexed items."""
        job, item = listing.after() or ("", "")
        params = {"ws": listing.workspace_id, "job": job, "item": item, "limit": listing.limit + 1}
        found = self._db.read().execute(_QUEUE, params).fetchall()
        return listing.page([rows.item_from_row(row) for row in found])


__all__ = ["PRIVACY_COLUMNS", "SqliteReview", "prepare"]
