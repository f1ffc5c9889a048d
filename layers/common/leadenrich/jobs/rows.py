"""Jobs and items as plain rows (column name -> value), both ways: the mapping every job store shares.

Each adapter starts from these rows and changes only what its storage needs (DynamoDB keys and number
types, SQLite's JSON text and 0/1 booleans, the columns a Supabase function takes), so a field added to
`Job` or `Item` is mapped in one place. In a row:

- datetimes are `jobs.encoding.ts` text (fixed-width UTC ISO 8601: text order is time order), read back
  with `parse_ts` as tz-aware UTC;
- options are one column each (`options_row`: `JobOptions.as_row`, `run_at` as `ts` text), and so are a
  job's `paused_reason` and `due_at` (the due index); counters are one column each, named by the store's
  `counter_columns` (DynamoDB prefixes them, Supabase kept the original design's names);
- an item's lead is a JSON-ready dict without its unset fields, its result a dict or None;
- the float counters (credits, cost, time) are added in `Decimal` by every store (`exact_decimal`), so
  0.1 + 0.1 + 0.1 is 0.3 wherever a job is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import opt_ts, parse_ts, ts
from leadenrich.jobs.models import Item, ItemStatus, Job, JobCounters, JobOptions, JobStatus
from leadenrich.jobs.ports import Activity, CounterDelta

COUNTERS = tuple(f.name for f in dataclasses.fields(JobCounters))
FLOAT_COUNTERS = frozenset(f.name for f in dataclasses.fields(JobCounters) if isinstance(f.default, float))
DELTA_FIELDS = tuple(f.name for f in dataclasses.fields(CounterDelta))
ACTIVITY_FIELDS = tuple(f.name for f in dataclasses.fields(Activity))
ACTIVITY_KEPT = timedelta(days=2)  # activity rows outlive the hour `GET /metrics` reads by a margin


class StoredRowError(RuntimeError):
    """A stored row lacks what every row of its kind has: the storage holds another version's data."""


def counter_columns(prefix: str = "") -> dict[str, str]:
    """JobCounters field -> the column holding it, for stores that name them `{prefix}{field}`."""
    return {name: f"{prefix}{name}" for name in COUNTERS}


def exact_decimal(value: int | float | Decimal) -> Decimal:
    """Exact: a float goes through its shortest repr, not its binary expansion."""
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def options_row(options: JobOptions) -> dict[str, Any]:
    """The options as a job's row holds them (what `update_job` replaces): `JobOptions.as_row` with
    `run_at` as `ts` text, like every stored instant."""
    return {**options.as_row(), "run_at": opt_ts(options.run_at)}


def job_to_row(job: Job, columns: Mapping[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "workspace_id": job.workspace_id,
        "job_id": job.job_id,
        "status": job.status.value,
        "created_at": ts(job.created_at),
        "started_at": opt_ts(job.started_at),
        "completed_at": opt_ts(job.completed_at),
        "idempotency_key": job.idempotency_key,
        "request_fingerprint": job.request_fingerprint,
        "paused_reason": job.paused_reason,
        "due_at": opt_ts(job.due_at),
        **options_row(job.options),
    }
    for name, column in columns.items():
        row[column] = getattr(job.counters, name)
    return row


def job_from_row(row: Mapping[str, Any], columns: Mapping[str, str]) -> Job:
    """`row` with its options decoded (tags a list); a counter that is absent or NULL reads as 0."""
    numbers: dict[str, Any] = {
        name: (float if name in FLOAT_COUNTERS else int)(row.get(column) or 0)
        for name, column in columns.items()
    }
    created_at = parse_ts(row.get("created_at"))
    if created_at is None:
        raise StoredRowError(f"job {row.get('job_id')!r} has no created_at")
    return Job(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        status=JobStatus(row["status"]),
        created_at=created_at,
        options=JobOptions.from_row({**row, "run_at": parse_ts(row.get("run_at"))}),
        counters=JobCounters(**numbers),
        started_at=parse_ts(row.get("started_at")),
        completed_at=parse_ts(row.get("completed_at")),
        idempotency_key=row.get("idempotency_key"),
        request_fingerprint=row.get("request_fingerprint"),
        paused_reason=row.get("paused_reason"),
        due_at=parse_ts(row.get("due_at")),
    )


def item_to_row(item: Item) -> dict[str, Any]:
    return {
        "workspace_id": item.workspace_id,
        "job_id": item.job_id,
        "item_id": item.item_id,
        "lead": item.lead.model_dump(mode="json", exclude_none=True),
        "lead_id": item.lead_id,
        "status": item.status.value,
        "attempts": item.attempts,
        "reason": item.reason,
        "result": item.result,
        "updated_at": opt_ts(item.updated_at),
        "lease_token": item.lease_token,
        "lease_until": opt_ts(item.lease_until),
        "next_attempt_at": opt_ts(item.next_attempt_at),
        "sent_next": item.sent_next,
    }


def item_from_row(row: Mapping[str, Any]) -> Item:
    """`row` with its lead and result decoded (a mapping, a dict or None); absent values read as unset."""
    result = row.get("result")
    return Item(
        workspace_id=row["workspace_id"],
        job_id=row["job_id"],
        item_id=row["item_id"],
        lead=Lead.model_validate(row["lead"]),
        status=ItemStatus(row["status"]),
        attempts=int(row["attempts"]),
        reason=row.get("reason"),
        result=dict(result) if isinstance(result, dict) else None,
        updated_at=parse_ts(row.get("updated_at")),
        lease_token=row.get("lease_token"),
        lease_until=parse_ts(row.get("lease_until")),
        next_attempt_at=parse_ts(row.get("next_attempt_at")),
        lead_id=row.get("lead_id"),
        sent_next=bool(row.get("sent_next", False)),
    )


def delta_values(delta: CounterDelta | None) -> dict[str, int | float]:
    """The counters `delta` changes (field -> value, zeros left out): what a store adds to its job."""
    if delta is None:
        return {}
    values = {name: getattr(delta, name) for name in DELTA_FIELDS}
    return {name: value for name, value in values.items() if value}


def activity_minute(moment: datetime) -> str:
    """The UTC minute an activity row counts (`2025-03-01T12:00`): text order is time order."""
    return ts(moment)[:16]


def activity_of(totals: Mapping[str, Any]) -> Activity:
    """An `Activity` from summed counts keyed by field (a missing or NULL sum is 0)."""
    return Activity(**{name: int(totals.get(name) or 0) for name in ACTIVITY_FIELDS})


__all__ = [
    "ACTIVITY_FIELDS",
    "ACTIVITY_KEPT",
    "COUNTERS",
    "DELTA_FIELDS",
    "FLOAT_COUNTERS",
    "StoredRowError",
    "activity_minute",
    "activity_of",
    "counter_columns",
    "delta_values",
    "exact_decimal",
    "item_from_row",
    "item_to_row",
    "job_from_row",
    "job_to_row",
    "options_row",
]
