"""`RateLimiter` on the shared DynamoDB table: one provider API key is used by every Lambda process at once,
so its rate must be counted in one place.

Row per key and window: PK `LIMIT#{key}#{window_size}#{window_start}` (size 1 or 60 seconds, start in
epoch seconds), SK `LIMIT`, a counter `n` and `expires_at` (the table's TTL) a little after the window ends.

Why fixed windows: a slot is one conditional UpdateItem, `ADD n :one` if `attribute_not_exists(n) OR
n < :limit`. DynamoDB evaluates the condition and the increment atomically on the row, so two processes
can never both take the last slot, and there is no read-modify-write to race and no lock to leak. A
sliding log or a token bucket would need a read and a conditional write on a changing value (lost races
and retries under exactly the contention we are limiting) or a transaction.

The trade-off: fixed windows allow a burst at a boundary, up to the limit at the end of one window and
again at the start of the next, so at most twice the limit within one second straddling a boundary (and
likewise for minutes). That is why `ratelimit.LIMITS` sets 80 % of the published rates by default: the
provider's own windows rarely align with ours, and a 403/429 costs more than the unused 20 %. Processes
also compute window starts from their own clocks; Lambda hosts keep NTP time, so skew is milliseconds.

Each acquire takes the second window, then the minute window. When the minute is full the second slot
just taken is handed back (`ADD n :minus_one`), so it can be used by someone else, and the caller waits
for the next minute; when the second is full it waits for the next second. Either wait is taken only if
it ends before the deadline, otherwise acquire returns False at once. Window rows are never read, only
conditionally written, so their count is exactly the slots taken in that window.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.dynamo_store import _EMULATOR_LOCK, TTL_ATTRIBUTE
from leadenrich.deadline import Deadline
from leadenrich.ratelimit import LIMITS, Limit

SECOND = 1
MINUTE = 60
_SK = "LIMIT"
_ROW_GRACE = 300  # seconds a window row outlives its window: it is never read again, TTL may delete it
_WAKE_MARGIN = 0.001  # wake just after the boundary, so the clock is already in the new window


def window_pk(key: str, size: int, start: int) -> str:
    return f"LIMIT#{key}#{size}#{start}"


class DynamoRateLimiter:
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
        self._table = table_name
        self._client = client
        self._limits = limits
        self._lock: threading.Lock | None = _EMULATOR_LOCK if serialize_calls else None
        self._clock = clock
        self._sleep = sleep

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        """boto3 blocks: run the call in a thread so the event loop keeps serving other items."""
        method = getattr(self._client, operation)
        lock = self._lock
        if lock is None:
            return await asyncio.to_thread(method, **kwargs)

        def locked() -> Any:
            with lock:
                return method(**kwargs)

        return await asyncio.to_thread(locked)

    async def _take(self, key: str, size: int, start: int, limit: int) -> bool:
        """One conditional increment of the window's counter: True if a slot was free and is now ours."""
        try:
            await self._call(
                "update_item",
                TableName=self._table,
                Key={"PK": {"S": window_pk(key, size, start)}, "SK": {"S": _SK}},
                UpdateExpression="ADD #n :one SET #exp = :exp",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "n", "#exp": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":exp": {"N": str(start + size + _ROW_GRACE)},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def _give_back(self, key: str, size: int, start: int) -> None:
        """Return a slot taken but not used, so the window's count stays the number of calls made."""
        await self._call(
            "update_item",
            TableName=self._table,
            Key={"PK": {"S": window_pk(key, size, start)}, "SK": {"S": _SK}},
            UpdateExpression="ADD #n :minus_one",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":minus_one": {"N": "-1"}},
        )

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        limit = self._limits[key]
        give_up_at = self._clock() + deadline.remaining()
        while True:
            now = self._clock()
            second = int(now // SECOND) * SECOND
            minute = int(now // MINUTE) * MINUTE
            if not await self._take(key, SECOND, second, limit.per_second):
                wake_at = second + SECOND + _WAKE_MARGIN
            elif not await self._take(key, MINUTE, minute, limit.per_minute):
                await self._give_back(key, SECOND, second)
                wake_at = minute + MINUTE + _WAKE_MARGIN
            else:
                return True
            if wake_at > give_up_at:
                return False
            await self._sleep(max(wake_at - self._clock(), _WAKE_MARGIN))


__all__ = ["MINUTE", "SECOND", "DynamoRateLimiter", "window_pk"]
