"""The rate-limiter port: callers wait for a slot before a paid request instead of collecting 403/429s.

A throttled call (Hunter's 403, Perplexity's 429) costs a round trip and hands the item back to a later
invocation; a limiter that gives up at the deadline lets the caller hand it back without waiting past its
budget.

Published limits (providers.md §1.8, §2.4) per API key, and how each provider meters them: Hunter 15/s and
500/min (Domain Search, Email Finder), 10/s and 300/min (Email Verifier), over the last second and minute
(sliding windows); Perplexity tier 0: 1/s and 50/min, described as a continuously refilling bucket: a
minute's calls may be banked, but no two come within a second. The simulator models both so.

One model for every adapter (`reserve`): per key, a spacing (no two calls closer than `1 / per_second`) and
a minute bucket (refilled `per_minute` a minute, holding `burst` calls), both GCRA. `burst` 1 spaces calls
evenly at the steady pace, which no sliding or fixed window can fault (Hunter). Perplexity's calls come
from a bucket that refills slower and holds less than Perplexity's own, so ours is empty first. The bucket
is what lets a drain pass 0.9 of the published rate: an invocation sends no Perplexity request for 15-20 %
of its time (Domain Search comes first; no call starts when it could not finish), which evenly spaced calls
lose (0.82 measured) and the bucket catches up at the spacing (docs/benchmarks.md). Were Perplexity's
minute a sliding window instead, a full bucket could meet a few 429s (57 calls in 60 s against 50), which
cost the item nothing but a hand-back.

`LIMITS` is `PACE_FACTOR` (95 %) of every published rate. The steady rate, and so a drain's share of the
binding limit, cannot exceed it; and as Perplexity refuses a request arriving less than a second after the
previous one, the spacing must absorb how unevenly requests travel from slot to provider: 95 % leaves
53 ms. `Departures` keeps every call within `LATE_LIMIT` (25 ms) of its slot, whichever process holds the
slots around it, and leaves the other 28 ms to the network (1-9 ms measured on the drain benchmark).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from leadenrich.deadline import Deadline

PACE_FACTOR = 0.95
US = 1_000_000  # the limiters count in whole microseconds: float sums drift (50 x 20 ms < 1 s)


@dataclass(frozen=True)
class Limit:
    per_second: float
    per_minute: float
    burst: int = 1  # calls the minute bucket holds; 1: evenly spaced

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and self.per_minute > 0 and self.burst >= 1):
            raise ValueError(f"limit: rates must be above 0 and the burst at least 1, got {self}")

    @property
    def interval(self) -> float:
        """The steady spacing: what a long run of calls averages at best."""
        return max(1.0 / self.per_second, 60.0 / self.per_minute)

    def scaled(self, factor: float) -> Limit:
        """A share of this limit; the burst rounded down, never below 1."""
        return Limit(
            self.per_second * factor, self.per_minute * factor, max(1, math.floor(self.burst * factor))
        )


PUBLISHED_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "hunter.domain_search": Limit(per_second=15, per_minute=500),
        "hunter.email_finder": Limit(per_second=15, per_minute=500),
        "hunter.email_verifier": Limit(per_second=10, per_minute=300),
        # Company enrichment (`/companies/find`) as most endpoints, Discover lower (providers.md §1.8, §5).
        "hunter.companies_find": Limit(per_second=15, per_minute=500),
        "hunter.discover": Limit(per_second=5, per_minute=50),
        "perplexity.responses": Limit(per_second=1, per_minute=50, burst=50),
    }
)

LIMITS: Mapping[str, Limit] = MappingProxyType(
    {key: limit.scaled(PACE_FACTOR) for key, limit in PUBLISHED_LIMITS.items()}
)


def parse_limits(text: str) -> Mapping[str, Limit]:
    """`LIMITS` with the paces given in `RATE_LIMITS` (calls per second / per minute, optionally / the burst
    the minute bucket holds; kept as given: no pace factor), e.g. "perplexity.responses=3/150/150,
    hunter.email_verifier=10/300". For plans above Perplexity's tier 0 and Hunter's defaults, and for
    measuring how close to a limit the pace can run. A ValueError names the entry that is wrong."""
    limits = dict(LIMITS)
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key, _, rates = entry.partition("=")
        key = key.strip()
        if key not in LIMITS:
            raise ValueError(f"unknown key {key!r}; known: {', '.join(sorted(LIMITS))}")
        try:
            numbers = [int(part) for part in rates.split("/")]
        except ValueError:
            numbers = []
        if len(numbers) not in (2, 3):
            raise ValueError(
                f"{key}: expected <per second>/<per minute>[/<burst>] in whole calls, got {rates!r}"
            )
        if min(numbers) < 1:
            raise ValueError(f"{key}: both rates must be at least 1, and the burst too, got {rates!r}")
        limits[key] = Limit(*numbers)
    return MappingProxyType(limits)


@dataclass(frozen=True)
class Pace:
    """One key's schedule, in microseconds on the limiter's clock: the earliest the next call may start
    (the last slot plus the spacing), and the minute bucket's theoretical arrival time (GCRA)."""

    next_us: int
    minute_us: int


def reserve(limit: Limit, pace: Pace | None, now_us: int) -> tuple[int, Pace]:
    """The slot for one more call (never before `now_us`) and the pace after it. No pace: a fresh key,
    its bucket full."""
    spacing_us = math.ceil(US / limit.per_second)
    refill_us = math.ceil(60 * US / limit.per_minute)
    if pace is None:
        pace = Pace(now_us, now_us)
    slot = max(now_us, pace.next_us, pace.minute_us - (limit.burst - 1) * refill_us)
    return slot, Pace(slot + spacing_us, max(pace.minute_us, slot) + refill_us)


class RateLimiter(Protocol):
    async def acquire(self, key: str, deadline: Deadline) -> bool:
        """Wait for a slot for `key`: True once taken, False (at once) when none frees up before `deadline`.

        An unknown key raises KeyError: a misspelt key must not silently mean "unlimited".
        """
        ...


LATE_LIMIT = 0.025
"""Seconds a call may leave after its slot. Every call leaves within it, so two calls reach the provider at
least the spacing less this apart (1.028 s at Perplexity's 95 % pace), which leaves 28 ms for how unevenly
they travel there."""

_MAX_LEAD = 1.0  # seconds: a reservation is never made further ahead than this


class Departures:
    """When this process lets calls go, so that each leaves within `LATE_LIMIT` of its slot, whichever
    process took the slots around it. A caller can leave late: its reservation's write was slow (a slot
    computed at the read is already past when the write returns), the event loop was busy when it woke, or
    this process's previous call of the key left late (a call also waits for the spacing after the previous
    one actually left). The next slot's holder, in another process, leaves on time, and the two would reach
    the provider closer than the spacing: two processors sharing the DynamoDB limiter on a loaded machine
    saw departures up to 183 ms late and a Perplexity 429.

    So `acquire` reserves `lead` ahead of now, the time reservations have lately taken (smoothed as TCP
    smooths round trips, RFC 6298: mean plus four mean deviations), and a caller that would still leave
    more than `LATE_LIMIT` after its slot gives the slot up (it stays unused) and reserves again."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._mean: float | None = None
        self._deviation = 0.0

    @property
    def lead(self) -> float:
        """How far ahead of now the next reservation is made."""
        if self._mean is None:
            return 0.0
        return min(_MAX_LEAD, self._mean + 4 * self._deviation)

    def _took(self, seconds: float) -> None:
        if self._mean is None:
            self._mean, self._deviation = seconds, seconds / 2
            return
        self._deviation += (abs(seconds - self._mean) - self._deviation) / 4
        self._mean += (seconds - self._mean) / 8

    async def acquire(
        self,
        key: str,
        limit: Limit,
        give_up_at: float,
        reserve_from: Callable[[float], Awaitable[float | None]],
    ) -> bool:
        """Reserve (`reserve_from(not_before)`: the slot taken, never before `not_before`, or None when none
        comes before `give_up_at`), then leave at the slot; reserve again when that would be too late."""
        while True:
            started = self._clock()
            slot = await reserve_from(started + self.lead)
            self._took(self._clock() - started)
            if slot is None:
                return False
            left = await self._leave(key, limit, slot, give_up_at)
            if left is not None:
                return left

    async def _leave(self, key: str, limit: Limit, slot: float, give_up_at: float) -> bool | None:
        """Wait for `slot` and the spacing after the last call of `key`: True when gone, False if that is past
        `give_up_at`, None if past `slot + LATE_LIMIT` (either way the slot is lost, not handed on)."""
        while True:
            now = self._clock()
            at = max(slot, self._last.get(key, -math.inf) + 1.0 / limit.per_second)
            if at > slot + LATE_LIMIT or now > slot + LATE_LIMIT:
                return None
            if at <= now:
                self._last[key] = now
                return True
            if at > give_up_at:
                return False
            await self._sleep(at - now)


class LocalRateLimiter:
    """In-process (the command line: one process, so nothing to share). The reservation runs without an
    await, so concurrent tasks on one event loop cannot take the same slot. Each process starts with a full
    bucket, whatever the previous one spent: a command run right after another may meet a few 429s.

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
        self._paces: dict[str, Pace] = {}
        self._departures = Departures(clock, sleep)

    async def acquire(self, key: str, deadline: Deadline) -> bool:
        limit = self._limits[key]
        give_up_at = self._clock() + deadline.remaining()

        async def reserve_from(not_before: float) -> float | None:
            slot_us, pace = reserve(limit, self._paces.get(key), round(not_before * US))
            if slot_us / US > give_up_at:
                return None
            self._paces[key] = pace
            return slot_us / US

        return await self._departures.acquire(key, limit, give_up_at, reserve_from)


__all__ = [
    "LATE_LIMIT",
    "LIMITS",
    "PACE_FACTOR",
    "PUBLISHED_LIMITS",
    "US",
    "Departures",
    "Limit",
    "LocalRateLimiter",
    "Pace",
    "RateLimiter",
    "reserve",
]
