"""`RateLimiter` on the shared DynamoDB table: one provider API key is used by every Lambda process at once,
so its pace must be kept in one place.

GCRA (the generic cell rate algorithm): one row per key, PK `RATE#{key}`, SK `RATE`, holding `tat`, the
earliest time the next call may start. To take a slot, read `tat`, reserve `max(tat, now)` by writing
`tat = slot + interval` only if `tat` is still what was read (a conditional write; a lost race reads
again), then sleep until the slot. Calls of all processes are therefore spaced at least `interval` apart,
where `interval = max(1 / per_second, 60 / per_minute)`: never more than the per-second limit in any
second, nor the per-minute limit in any minute.

Why not fixed-window counters (one conditional ADD per window, no read): they allow a burst at every
window boundary, two calls a millisecond apart in two adjacent windows. A provider that meters with a
token bucket (Perplexity at 1 request per second) refuses the second one: the processor test that runs two
processors at the published limits saw six 429s from Perplexity and a 403 from Hunter with fixed windows,
and none with GCRA. The cost is a read before each write and a retry under contention, which is low at
these rates. Processes compute times from their own clocks; Lambda hosts keep NTP time (milliseconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.dynamo_store import TTL_ATTRIBUTE
from leadenrich.aws.threaded import ThreadedClient
from leadenrich.deadline import Deadline
from leadenrich.ratelimit import LIMITS, Limit

_SK = "RATE"
_ROW_GRACE = 3600  # seconds a key's row outlives its last reservation before TTL may delete it


def rate_pk(key: str) -> str:
    return f"RATE#{key}"


class DynamoRateLimiter(ThreadedClient):
    """See the module docstring. `clock` is wall time (epoch seconds): processes on different hosts must agree
    on window starts, which a monotonic clock would not. The deadline is read once as time left and then
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
        super().__init__(client, serialize_calls=serialize_calls)
        self._table = table_name
        self._limits = limits
        self._clock = clock
        self._sleep = sleep

    async def _read_tat(self, key: str) -> Decimal | None:
        row = await self._call(
            "get_item",
            TableName=self._table,
            Key={"PK": {"S": rate_pk(key)}, "SK": {"S": _SK}},
            ConsistentRead=True,
        )
        item = row.get("Item")
        return Decimal(item["tat"]["N"]) if item and "tat" in item else None

    async def _reserve(self, key: str, seen: Decimal | None, new_tat: Decimal) -> bool:
        """Move `tat` forward, only if nobody moved it since we read it."""
        condition = "attribute_not_exists(tat)" if seen is None else "tat = :seen"
        values = {":new": {"N": str(new_tat)}, ":exp": {"N": str(int(new_tat) + _ROW_GRACE)}}
        if seen is not None:
            values[":seen"] = {"N": str(seen)}
        try:
            await self._call(
                "update_item",
                TableName=self._table,
                Key={"PK": {"S": rate_pk(key)}, "SK": {"S": _SK}},
                UpdateExpression="SET tat = :new, #exp = :exp",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#exp": TTL_ATTRIBUTE},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        interval = Decimal(str(round(self._limits[key].interval, 6)))
        give_up_at = self._clock() + deadline.remaining()
        while True:
            now = Decimal(str(round(self._clock(), 6)))
            seen = await self._read_tat(key)
            slot = max(seen or now, now)
            if float(slot) > give_up_at:
                return False
            if await self._reserve(key, seen, slot + interval):
                wait = float(slot) - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                return True


__all__ = ["DynamoRateLimiter", "rate_pk"]
