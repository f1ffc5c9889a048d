"""`RateLimiter` in the embedded SQLite file: the local stack's processor runs, its command line and a second
processor all spend one provider key, so its pace is kept in the file, as the DynamoDB limiter keeps it in
the table for every Lambda.

The same GCRA as `leadenrich.aws.dynamo_limiter` (whose docstring says why not fixed windows): one row per
key holding `tat`, the earliest time the next call may start. A reservation is one `BEGIN IMMEDIATE`
transaction: read `tat`, take `slot = max(tat, now)`, write `tat = slot + interval`. The write lock is
taken before the read, so no other connection (thread or process) can reserve in between, and none of the
DynamoDB limiter's conditional write and retry loop is needed. The wait until the slot comes after the
commit, so a waiting caller never holds the lock.

`tat` is wall-clock time, so the pace survives a restart (a processor started a moment after another one
stopped still waits for its slot). It is kept in whole microseconds since the epoch, the interval rounded
up to a whole microsecond: sums of float seconds drift, and fifty 20 ms intervals could add up to a hair
under a second, one call too many in it (the DynamoDB limiter computes in decimals for the same reason).
There is one row per limited key, overwritten, so the table never grows and needs no expiry.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping

from leadenrich.deadline import Deadline
from leadenrich.ratelimit import LIMITS, Limit
from leadenrich.sqlite.db import Database

_US = 1_000_000  # microseconds a second

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limits (
    key    TEXT PRIMARY KEY,
    tat_us INTEGER NOT NULL
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
        self._sleep = sleep
        db.ensure_schema("rate_limits", _SCHEMA)

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        interval_us = math.ceil(self._limits[key].interval * _US)
        give_up_at = self._clock() + deadline.remaining()
        slot_us = self._reserve(key, interval_us, give_up_at)
        if slot_us is None:
            return False
        wait = slot_us / _US - self._clock()
        if wait > 0:
            await self._sleep(wait)
        return True

    def _reserve(self, key: str, interval_us: int, give_up_at: float) -> int | None:
        """The slot taken for `key` (and `tat` moved past it), or None when it would come after `give_up_at`.
        Synchronous on purpose: one transaction, never an await inside it."""
        with self._db.write() as conn:
            now_us = round(self._clock() * _US)  # read under the lock: the slot is taken at this moment
            row = conn.execute("SELECT tat_us FROM rate_limits WHERE key = ?", (key,)).fetchone()
            slot_us = now_us if row is None else max(int(row["tat_us"]), now_us)
            if slot_us / _US > give_up_at:
                return None
            conn.execute(
                "INSERT INTO rate_limits (key, tat_us) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET tat_us = excluded.tat_us",
                (key, slot_us + interval_us),
            )
            return slot_us


__all__ = ["SqliteRateLimiter"]
