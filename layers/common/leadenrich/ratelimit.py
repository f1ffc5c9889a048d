"""The rate-limiter port: callers wait for a slot before a paid request instead of collecting 403/429s.

A throttled Hunter call comes back as 403 (per-second/minute limit) and a throttled Perplexity call as 429;
either costs a round trip, a retry and part of the item's time budget. Taking a slot first keeps us under
the provider's limit, and a limiter that gives up at the deadline lets the caller hand the item back
instead of waiting past its budget.

Published limits (providers.md §1.8, §2.4), per API key:
- Hunter Domain Search and Email Finder: 15/s and 500/min; Email Verifier: 10/s and 300/min;
- Perplexity, usage tier 0: 1/s and 50/min.

`LIMITS` applies `SAFETY_FACTOR` (80 %) to them, because the DynamoDB limiter counts in fixed windows,
which let up to twice a window's limit through within one second straddling a boundary, and because the
provider's clock and window edges are not ours. A limit never drops below 1 (Perplexity stays at 1/s,
so it can still see two calls within a second at a boundary; its 429 handling covers that).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from leadenrich.deadline import Deadline

SAFETY_FACTOR = 0.8
_MIN_SLEEP = 0.001  # a wait rounded to nothing must still move the clock, or the loop would spin


@dataclass(frozen=True)
class Limit:
    per_second: int
    per_minute: int

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.per_minute < 1:
            raise ValueError(f"limit: both rates must be at least 1, got {self}")

    @property
    def interval(self) -> float:
        """The spacing that keeps both rates: never more than per_second in a second, per_minute a minute."""
        return max(1.0 / self.per_second, 60.0 / self.per_minute)

    def scaled(self, factor: float) -> Limit:
        """A share of this limit, rounded down (never below 1), to stay under the provider's own count."""
        return Limit(
            max(1, math.floor(self.per_second * factor)), max(1, math.floor(self.per_minute * factor))
        )


PUBLISHED_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "hunter.domain_search": Limit(per_second=15, per_minute=500),
        "hunter.email_finder": Limit(per_second=15, per_minute=500),
        "hunter.email_verifier": Limit(per_second=10, per_minute=300),
        "perplexity.responses": Limit(per_second=1, per_minute=50),
    }
)

# Perplexity meters with a bucket of one request per second: any two arrivals under a second apart are
# refused, so the pace must also absorb jitter between taking a slot and the request arriving (scheduling,
# network: a few hundred ms under load). 34 a minute spaces calls 1.76 s apart; at 80% (40 a minute, 1.5 s)
# the test running two processors at the published limits still saw a 429 on a loaded machine.
_JITTER_SAFE = {"perplexity.responses": Limit(per_second=1, per_minute=34)}

LIMITS: Mapping[str, Limit] = MappingProxyType(
    {key: _JITTER_SAFE.get(key, limit.scaled(SAFETY_FACTOR)) for key, limit in PUBLISHED_LIMITS.items()}
)


def parse_limits(text: str) -> Mapping[str, Limit]:
    """`LIMITS` with the paces given in `RATE_LIMITS` (calls per second / per minute, kept as given: no
    safety factor), e.g. "perplexity.responses=2/150,hunter.email_verifier=10/300". For plans above
    Perplexity's tier 0 and Hunter's defaults, and for measuring how close to a limit the pace can run.
    A ValueError names the entry that is wrong."""
    limits = dict(LIMITS)
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key, _, rates = entry.partition("=")
        key = key.strip()
        if key not in LIMITS:
            raise ValueError(f"unknown key {key!r}; known: {', '.join(sorted(LIMITS))}")
        per_second, _, per_minute = rates.partition("/")
        try:
            rate = int(per_second), int(per_minute)
        except ValueError:
            raise ValueError(
                f"{key}: expected <per second>/<per minute> in whole calls, got {rates!r}"
            ) from None
        limits[key] = Limit(*rate)
    return MappingProxyType(limits)


class RateLimiter(Protocol):
    async def acquire(self, key: str, deadline: Deadline) -> bool:
        """Wait for a slot for `key`: True once taken, False (at once) when none frees up before `deadline`.

        An unknown key raises KeyError: a misspelt key must not silently mean "unlimited".
        """
        ...


class LocalRateLimiter:
    """In-process sliding windows (the command line: one process, so nothing to share).

    Each key keeps the times of its calls within the last minute. The check and the append run without an
    await in between, so concurrent tasks on one event loop cannot both take the last slot.

    The deadline is read once as time left and then measured on `clock`, so an injected clock and sleep
    (tests) govern the whole wait.
    """

    def __init__(
        self,
        limits: Mapping[str, Limit] = LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._seconds: dict[str, deque[float]] = {}
        self._minutes: dict[str, deque[float]] = {}

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        limit = self._limits[key]
        give_up_at = self._clock() + deadline.remaining()
        second = self._seconds.setdefault(key, deque())
        minute = self._minutes.setdefault(key, deque())
        while True:
            now = self._clock()
            wait = max(_wait(second, 1.0, limit.per_second, now), _wait(minute, 60.0, limit.per_minute, now))
            if wait <= 0.0:
                second.append(now)
                minute.append(now)
                return True
            if now + wait > give_up_at:
                return False
            await self._sleep(max(wait, _MIN_SLEEP))


def _wait(calls: deque[float], window: float, limit: int, now: float) -> float:
    """Seconds until `calls` (never more than `limit` long) has room again within the last `window`."""
    while calls and calls[0] <= now - window:
        calls.popleft()
    if len(calls) < limit:
        return 0.0
    return calls[0] + window - now


__all__ = ["LIMITS", "PUBLISHED_LIMITS", "SAFETY_FACTOR", "Limit", "LocalRateLimiter", "RateLimiter"]
