"""`RateLimiter` in the embedded SQLite file: the local stack's processor runs, its command line and a second
processor all spend one provider key, so its pace is kept in the file, as the DynamoDB limiter keeps it in
the table for every Lambda.

The model is `leadenrich.engine.ratelimit.reserve`, as in `leadenrich.aws.dynamo_limiter` (whose docstring
says why not fixed windows): one row per key holding its `Pace` in integer microseconds. A reservation is one
`BEGIN IMMEDIATE` transaction: read the pace, take the slot, write the pace after it. The write lock is
taken before the read, so no other connection (thread or process) can reserve in between, and none of the
DynamoDB limiter's conditional write and retry loop is needed. The wait until the slot (`Departures`)
comes after the commit, so a waiting caller never holds the lock.

`take` is the same reservation for callers that answer instead of waiting: the API's per-workspace request
buckets (`leadenrich.auth.request_rate`, keys `API#{workspace}`); a refused take writes nothing.

Times are wall-clock, so the pace survives a restart (a processor started a moment after another one
stopped still waits for its slot). There is one row per limited key (a provider endpoint, a workspace),
overwritten, so the table grows only with the workspaces and needs no expiry. `rate_limits`, the table of
the single schedule before the minute bucket, is dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from leadenrich.deadline import Deadline
from leadenrich.engine.ratelimit import LIMITS, US, Departures, Limit, Pace, reserve
from leadenrich.sqlite.db import Database

_SCHEMA = """
DROP TABLE IF EXISTS rate_limits;
CREATE TABLE IF NOT EXISTS rate_paces (
    key       TEXT PRIMARY KEY,
    next_us   INTEGER NOT NULL,
    minute_us INTEGER NOT NULL
);
"""


class SqliteRateLimiter:
    """See the module docstring. The deadline is read once as time left and then measured on `clock`, so an
    injected clock and sleep (tests) govern the whole wait."""

    def __init__(
        self,
        db: Database,
        limits: Mapping[str, Limit] = LIMITS,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self._limits = limits
        self._clock = clock
        self._departures = Departures(clock, sleep)
        db.ensure_schema("rate_paces", _SCHEMA)

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        limit = self._limits[key]
        give_up_at = self._clock() + deadline.remaining()

        async def reserve_from(not_before: float) -> float | None:
            slot_us, _now_us = self._reserve(key, limit, give_up_at, not_before)
            return None if slot_us / US > give_up_at else slot_us / US

        return await self._departures.acquire(key, limit, give_up_at, reserve_from)

    async def take(self, key: str, limit: Limit) -> float:
        """A slot for `key` now or not at all: 0.0 when taken; otherwise nothing is written and the answer
        is the seconds until one frees up. `limit` is the caller's (any key): no wait, no `Departures`."""
        slot_us, now_us = self._reserve(key, limit, None)
        return 0.0 if slot_us <= now_us else (slot_us - now_us) / US

    def _reserve(
        self, key: str, limit: Limit, give_up_at: float | None, not_before: float = 0.0
    ) -> tuple[int, int]:
        """The slot for `key` (never before `not_before`) and the moment it was computed, in microseconds; the
        slot is taken (the pace moved past it) unless it comes after `give_up_at` (None: after now).
        Synchronous on purpose: one transaction, never an await inside it."""
        with self._db.write() as conn:
            now_us = round(self._clock() * US)  # read under the lock: the slot is taken at this moment
            row = conn.execute("SELECT next_us, minute_us FROM rate_paces WHERE key = ?", (key,)).fetchone()
            seen = None if row is None else Pace(int(row["next_us"]), int(row["minute_us"]))
            slot_us, pace = reserve(limit, seen, max(now_us, round(not_before * US)))
            # The same test as `acquire`'s, so both agree on whether the slot was taken.
            too_late = (slot_us > now_us) if give_up_at is None else (slot_us / US > give_up_at)
            if too_late:
                return slot_us, now_us
            conn.execute(
                "INSERT INTO rate_paces (key, next_us, minute_us) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET next_us = excluded.next_us, minute_us = excluded.minute_us",
                (key, pace.next_us, pace.minute_us),
            )
            return slot_us, now_us


__all__ = ["SqliteRateLimiter"]
