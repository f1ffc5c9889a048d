"""What the job stores write the same way: timestamps as text, listing cursors, the page-size limit.

Timestamps are fixed-width UTC ISO 8601 with microseconds, so text order is time order and a value
round-trips exactly (a naive datetime is taken as UTC). Cursors are opaque to callers: base64 of a small
JSON object of strings that names the listing it continues (`scope`) and where it stopped (`position`);
a cursor of another listing, or one this service never made, is a `BadCursor` (a `ValueError`) naming the
cursor, in every store. The keyset stores (SQLite, Supabase) share one cursor per listing (`jobs_cursor`,
`items_cursor`); DynamoDB's cursors are its start keys, checked by the same `decode_cursor`.
Whatever a caller puts in one, reading it is bounded: at most MAX_CURSOR_CHARS, parsed by
`leadenrich.jsonguard` (nesting limited before the parser sees it), so a hostile cursor is refused like
any other foreign one, never a crash.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from leadenrich import jsonguard

MAX_LIMIT = 1000  # rows per listed page, in every store
MAX_CURSOR_CHARS = 2048  # ours are a few hundred; the API refuses longer ones before they get here


class BadCursor(ValueError):
    """A cursor the listing did not return: malformed, too long, or another listing's (another
    workspace's). The message starts with "cursor:" and names no data."""


def ts(value: datetime) -> str:
    """Fixed-width UTC ISO 8601 (a naive datetime is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def opt_ts(value: datetime | None) -> str | None:
    return ts(value) if value is not None else None


def parse_ts(value: object) -> datetime | None:
    """A stored timestamp in UTC (PostgreSQL answers in the session's zone), None when absent."""
    return datetime.fromisoformat(value).astimezone(UTC) if isinstance(value, str) else None


def encode_cursor(payload: dict[str, str]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


NOT_OURS = "cursor: not a cursor this service returned"
ANOTHER_LISTING = "cursor: belongs to another listing"


def read_cursor(cursor: str) -> dict[str, object]:
    """The JSON object inside a cursor, whatever it holds; BadCursor for anything else."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadCursor(NOT_OURS)
    try:
        decoded = jsonguard.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # too deep, Unicode and JSON decode errors are ValueErrors
        raise BadCursor(NOT_OURS) from exc
    if not isinstance(decoded, dict):
        raise BadCursor(NOT_OURS)
    return decoded


def decode_cursor(
    cursor: str,
    scope: Mapping[str, str],
    position: tuple[str, ...],
    prefixes: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The cursor's fields: `scope` must match exactly (same listing), `position` fields be strings, each
    starting with its `prefixes` entry when it has one."""
    decoded = read_cursor(cursor)
    fields: dict[str, str] = {}
    for name, value in decoded.items():
        if not isinstance(value, str):
            raise BadCursor(NOT_OURS)
        fields[name] = value
    if set(fields) != set(scope) | set(position):
        raise BadCursor(NOT_OURS)
    if any(fields[name] != value for name, value in scope.items()):
        raise BadCursor(ANOTHER_LISTING)
    if any(not fields[name].startswith(prefix) for name, prefix in (prefixes or {}).items()):
        raise BadCursor(ANOTHER_LISTING)
    return fields


def cursor_ts(value: str) -> str:
    """A timestamp a cursor carries, as stored (`ts`); BadCursor when it is not one."""
    try:
        return ts(datetime.fromisoformat(value))
    except (ValueError, OverflowError) as exc:  # a time with no UTC equivalent (year 1 at +01:00) too
        raise BadCursor(NOT_OURS) from exc


def jobs_cursor(workspace_id: str, created_at: datetime, job_id: str) -> str:
    """Where a keyset listing of the workspace's jobs (newest first) stopped: its last job."""
    return encode_cursor({"list": "jobs", "ws": workspace_id, "at": ts(created_at), "id": job_id})


def after_job(cursor: str, workspace_id: str) -> tuple[str, str]:
    """(created_at as stored, job id) of the job a `jobs_cursor` of the workspace names; BadCursor else."""
    after = decode_cursor(cursor, {"list": "jobs", "ws": workspace_id}, ("at", "id"))
    return cursor_ts(after["at"]), after["id"]


def items_cursor(workspace_id: str, job_id: str, item_id: str) -> str:
    """Where a keyset listing of a job's items (input order) stopped: its last item."""
    return encode_cursor({"list": "items", "ws": workspace_id, "job": job_id, "id": item_id})


def after_item(cursor: str, workspace_id: str, job_id: str) -> str:
    """The item id an `items_cursor` of this job names; BadCursor for any other cursor."""
    return decode_cursor(cursor, {"list": "items", "ws": workspace_id, "job": job_id}, ("id",))["id"]


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit: must be between 1 and {MAX_LIMIT}")


__all__ = [
    "ANOTHER_LISTING",
    "MAX_CURSOR_CHARS",
    "MAX_LIMIT",
    "NOT_OURS",
    "BadCursor",
    "after_item",
    "after_job",
    "check_limit",
    "cursor_ts",
    "decode_cursor",
    "encode_cursor",
    "items_cursor",
    "jobs_cursor",
    "opt_ts",
    "parse_ts",
    "read_cursor",
    "ts",
]
