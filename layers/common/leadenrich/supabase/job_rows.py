"""The Supabase job store's rows and answers: `jobs.rows`' plain rows under 0001's column names, and the
checks on what the 0002 functions answer.

Rows travel as JSON objects keyed by column name, both ways (`jsonb_populate_record` on the way in,
`to_jsonb` or PostgREST's own rows on the way out), so one mapping (`COUNTER_COLUMNS`) names the counters of
the original design (`total_leads`, `processed_leads`, ...). Datetimes are `jobs.encoding.ts` text and read
back in UTC (PostgreSQL answers in the session's zone). A counter delta holds only its non-zero columns;
the SQL adds the float ones in numeric, so 0.1 + 0.1 + 0.1 is stored as 0.3, as DynamoDB's decimals give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadenrich.jobs import rows
from leadenrich.jobs.models import Item, Job
from leadenrich.jobs.ports import CounterDelta

# JobCounters field -> jobs column (0001 kept the original design's names for some of them).
COUNTER_COLUMNS: dict[str, str] = {
    "total": "total_leads",
    "processed": "processed_leads",
    "found": "found_leads",
    "risky": "risky_leads",
    "failed": "failed_leads",
    "created_emails": "created_emails",
    "api_calls_hunter": "api_calls_hunter",
    "api_calls_perplexity": "api_calls_perplexity",
    "credits_hunter": "credits_hunter",
    "cost_perplexity_usd": "cost_perplexity_usd",
    "processing_time_seconds": "processing_time_seconds",
}
# What an item is created with: its workspace and job are the job's (set by the function), its
# `updated_at` the database's (0001's trigger), `sent_next` false.
_CREATED_COLUMNS = (
    "item_id",
    "lead",
    "lead_id",
    "status",
    "attempts",
    "reason",
    "result",
    "lease_token",
    "lease_until",
    "next_attempt_at",
)


class StoreAnswerError(rows.StoredRowError):
    """A function answered in a shape it never does: the database holds another version of 0002."""


def job_params(job: Job) -> dict[str, Any]:
    return rows.job_to_row(job, COUNTER_COLUMNS)


def job_from_row(row: Mapping[str, Any]) -> Job:
    return rows.job_from_row(row, COUNTER_COLUMNS)


def item_params(item: Item) -> dict[str, Any]:
    """The columns an item is created with."""
    row = rows.item_to_row(item)
    return {column: row[column] for column in _CREATED_COLUMNS}


def item_from_row(row: Mapping[str, Any]) -> Item:
    return rows.item_from_row(row)


def delta_columns(delta: CounterDelta | None) -> dict[str, int | float] | None:
    """The non-zero counters of `delta`, keyed by column; None when it adds nothing."""
    changed = {COUNTER_COLUMNS[name]: value for name, value in rows.delta_values(delta).items()}
    return changed or None


def object_answer(data: object, function: str) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise StoreAnswerError(f"{function} answered {type(data).__name__}, not an object or null")
    return data


def objects_answer(data: object, function: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise StoreAnswerError(f"{function} answered {type(data).__name__}, not an array of objects")
    return data


def flag_answer(data: object, function: str) -> bool:
    if not isinstance(data, bool):
        raise StoreAnswerError(f"{function} answered {type(data).__name__}, not a boolean")
    return data


__all__ = [
    "COUNTER_COLUMNS",
    "StoreAnswerError",
    "delta_columns",
    "flag_answer",
    "item_from_row",
    "item_params",
    "job_from_row",
    "job_params",
    "object_answer",
    "objects_answer",
]
