"""`RateLimiter` on the shared DynamoDB table: one provider API key is used by every Lambda process at once,
so its pace must be kept in one place.

The model is `leadenrich.engine.ratelimit.reserve` (GCRA: a spacing and a minute bucket). One row per key, PK
`RATE#{key}`, SK `RATE`, holds its `Pace` in integer microseconds (`next_us`, `minute_us`). To take a slot,
read the row, compute the slot and the pace after it, and write that pace only if the row still holds the
pace that was read (every reservation moves `minute_us` forward by a refill at least; a lost race reads
again), then wait for the slot (`Departures`: reservations are made as far ahead as the writes have lately
taken, and a caller that would still leave late reserves again). `take` is the same reservation for
callers that answer instead of waiting: the API's per-workspace request buckets
(`leadenrich.auth.request_rate`, keys `API#{workspace}`).

Why not fixed-window counters (one conditional ADD per window, no read): they allow a burst at every
window boundary, two calls a millisecond apart in two adjacent windows. A provider that meters with a
token bucket (Perplexity at 1 request per second) refuses the second one: the processor test that runs two
processors at the published limits saw six 429s from Perplexity and a 403 from Hunter with fixed windows,
and none with GCRA. The cost is a read before each write and a retry under contention, which is low at
these rates. Processes compute times from their own clocks; Lambda hosts keep NTP time (milliseconds).
Rows written before the bucket (a `tat` in seconds) carry no pace and are taken over as fresh keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, row_key
from leadenrich.deadline import Deadline
from leadenrich.engine.ratelimit import LIMITS, US, Departures, Limit, Pace, reserve

_SK = "RATE"
_ROW_GRACE = 3600  # seconds a key's row outlives its last reservation before TTL may delete it


def rate_pk(key: str) -> str:
    return f"RATE#{key}"


class DynamoRateLimiter(DynamoTable):
    """See the module docstring. `clock` is wall time (epoch seconds): processes on different hosts must agree
    on the schedule, which a monotonic clock would not. The deadline is read once as time left and then
    measured on `clock`, so an injected clock and sleep (tests) govern the whole wait.
    `serialize_calls=True` over moto, which is not thread-safe (as the store)."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        limits: Mapping[str, Limit] = LIMITS,
        *,
        serialize_calls: bool = False,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(table_name, client, serialize_calls=serialize_calls)
        self._limits = limits
        self._clock = clock
        self._departures = Departures(clock, sleep)

    def _key(self, key: str) -> dict[str, Any]:
        return row_key(rate_pk(key), _SK)

    async def _read(self, key: str) -> Pace | None:
        item = await self.get_row(self._key(key)) or {}
        if "next_us" not in item or "minute_us" not in item:
            return None
        return Pace(int(item["next_us"]["N"]), int(item["minute_us"]["N"]))

    async def _write(self, key: str, seen: Pace | None, pace: Pace) -> bool:
        """Store `pace`, only if nobody reserved since we read `seen`. Both numbers are compared: a limit
        without spacing (a request bucket) can leave `next_us` where it was, `minute_us` always moves."""
        values = {
            ":next": {"N": str(pace.next_us)},
            ":minute": {"N": str(pace.minute_us)},
            ":exp": {"N": str(pace.minute_us // US + _ROW_GRACE)},
        }
        if seen is None:
            condition = "attribute_not_exists(next_us)"
        else:
            condition = "next_us = :seen AND minute_us = :seen_minute"
            values[":seen"] = {"N": str(seen.next_us)}
            values[":seen_minute"] = {"N": str(seen.minute_us)}
        written = await self.conditional_write(
            "update_item",
            TableName=self._table,
            Key=self._key(key),
            UpdateExpression="SET next_us = :next, minute_us = :minute, #exp = :exp",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#exp": TTL_ATTRIBUTE},
            ExpressionAttributeValues=values,
        )
        return written is not None

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        limit = self._limits[key]
        give_up_at = self._clock() + deadline.remaining()

        async def reserve_from(not_before: float) -> float | None:
            while True:
                seen = await self._read(key)
                slot_us, pace = reserve(limit, seen, round(max(not_before, self._clock()) * US))
                if slot_us / US > give_up_at:
                    return None
                if await self._write(key, seen, pace):
                    return slot_us / US

        return await self._departures.acquire(key, limit, give_up_at, reserve_from)

    async def take(self, key: str, limit: Limit) -> float:
        """A slot for `key` now or not at all: 0.0 when taken; otherwise nothing is written and the answer
        is the seconds until one frees up. `limit` is the caller's (any key): no wait, no `Departures`."""
        while True:
            seen = await self._read(key)
            now_us = round(self._clock() * US)
            slot_us, pace = reserve(limit, seen, now_us)
            if slot_us > now_us:
                return (slot_us - now_us) / US
            if await self._write(key, seen, pace):
                return 0.0


__all__ = ["DynamoRateLimiter", "rate_pk"]
