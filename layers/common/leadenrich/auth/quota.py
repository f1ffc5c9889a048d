"""The per-workspace daily quota on leads enqueued.

Each workspace may enqueue at most `limit` leads per UTC day. A job's leads are reserved (one atomic,
conditional add to the workspace's counter for the day) before the job is created, and given back when it
is not created after all (an idempotent replay, a store error). A reservation that would pass the limit
takes nothing and raises `QuotaExceeded`; the API answers 429 with `Retry-After` = the seconds to the next
UTC midnight, when the counter starts again from zero. A dry run reserves nothing.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class QuotaExceeded(Exception):
    """The workspace's daily quota cannot take `requested` more leads."""

    def __init__(self, limit: int, used: int | None, requested: int, retry_after_seconds: int) -> None:
        left = "" if used is None else f" ({max(0, limit - used):,} left today)"
        super().__init__(
            f"daily lead quota exceeded: {requested:,} leads asked, the workspace may enqueue {limit:,} "
            f"per UTC day{left}; it resets at 00:00 UTC"
        )
        self.limit = limit
        self.used = used
        self.requested = requested
        self.retry_after_seconds = retry_after_seconds


class LeadQuota(Protocol):
    async def reserve(self, workspace_id: str, day: date, count: int, limit: int) -> bool:
        """Add `count` to the workspace's counter for `day` only if the result stays <= `limit` (one
        conditional write); False, and nothing added, when it would not."""
        ...

    async def release(self, workspace_id: str, day: date, count: int) -> None:
        """Give back `count` reserved on `day` (a job that was not created after all)."""
        ...

    async def used(self, workspace_id: str, day: date) -> int:
        """The leads reserved on `day`."""
        ...


def utc_day(now: datetime) -> date:
    return now.astimezone(UTC).date()


def seconds_to_midnight(now: datetime) -> int:
    """Seconds until the next UTC midnight, at least 1 (Retry-After)."""
    moment = now.astimezone(UTC)
    midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return max(1, math.ceil((midnight - moment).total_seconds()))
