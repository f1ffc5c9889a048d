"""What the job stores write the same way: timestamps as text, listing cursors, the page-size limit.

Timestamps are fixed-width UTC ISO 8601 with microseconds, so text order is time order and a value
round-trips exactly (a naive datetime is taken as UTC). Cursors are opaque to callers: base64 of a small
JSON object that names the listing it continues (`scope`) and where it stopped (`position`); a cursor of
another listing, or one this service never made, is a `ValueError` naming the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

MAX_LIMIT = 1000  # rows per listed page, in every store


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


def decode_cursor(cursor: str, scope: dict[str, str], position: tuple[str, ...]) -> dict[str, str]:
    """The cursor's fields: `scope` must match exactly (same listing), `position` fields be strings."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError("cursor: not a cursor this service returned") from exc
    if (
        not isinstance(decoded, dict)
        or set(decoded) != set(scope) | set(position)
        or not all(isinstance(value, str) for value in decoded.values())
    ):
        raise ValueError("cursor: not a cursor this service returned")
    if any(decoded[name] != value for name, value in scope.items()):
        raise ValueError("cursor: belongs to another listing")
    return dict(decoded)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit: must be between 1 and {MAX_LIMIT}")


__all__ = ["MAX_LIMIT", "check_limit", "decode_cursor", "encode_cursor", "opt_ts", "parse_ts", "ts"]
