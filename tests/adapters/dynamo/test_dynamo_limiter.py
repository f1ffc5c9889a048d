"""Rate limiters: the contract every adapter keeps (in-process, DynamoDB, SQLite), then what only the
DynamoDB one must do (share the pace between processes through its row). The SQLite limiter's sharing (two
processors on one file, threads, a restart) is tested in `tests/adapters/sqlite/test_sqlite_limiter.py`.

Time is a fake clock that moves only when a limiter sleeps, so waits of a minute take no real time. A
sleeping task moves the clock to its own wake-up time (not past it), so tasks that sleep together wake
together, as they would on a real clock.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from enrich_tools.simulator.ratelimit import SlidingWindows, TokenBuckets
from leadenrich.aws.dynamo_limiter import DynamoRateLimiter, rate_pk
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.deadline import Deadline
from leadenrich.engine.ratelimit import (
    LATE_LIMIT,
    LIMITS,
    PUBLISHED_LIMITS,
    Limit,
    LocalRateLimiter,
    RateLimiter,
    parse_limits,
)
from leadenrich.sqlite.limiter import SqliteRateLimiter

TABLE = "leadenrich-test"
T0 = 1_699_999_980.0  # the start of a minute (and so of a second) in epoch time
KEY = "hunter.email_finder"


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        wake_at = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake_at)


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


Factory = Callable[[dict[str, Limit], FakeTime], RateLimiter]


@pytest.fixture(params=["local", "dynamo", "sqlite"])
def make_limiter(request: pytest.FixtureRequest) -> Factory:
    if request.param == "local":
        return lambda limits, t: LocalRateLimiter(limits, clock=t.clock, sleep=t.sleep)
    if request.param == "sqlite":
        db = request.getfixturevalue("database")
        return lambda limits, t: SqliteRateLimiter(db, limits, clock=t.clock, sleep=t.sleep)
    dynamo = request.getfixturevalue("client")
    return lambda limits, t: dynamo_limiter(dynamo, limits, t)


def dynamo_limiter(client: Any, limits: dict[str, Limit], t: FakeTime) -> DynamoRateLimiter:
    return DynamoRateLimiter(TABLE, client, limits, serialize_calls=True, clock=t.clock, sleep=t.sleep)


def rate_rows(client: Any) -> list[dict[str, Any]]:
    rows = client.scan(TableName=TABLE)["Items"]
    return [r for r in rows if r["PK"]["S"].startswith("RATE#")]


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` inside any half-open window of length `window`."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- the published numbers ------------------------------------------------------------------------------


def test_the_default_paces_are_95_percent_of_every_published_rate() -> None:
    assert PUBLISHED_LIMITS["hunter.domain_search"] == Limit(15, 500)
    assert LIMITS["hunter.domain_search"] == Limit(14.25, 475)  # evenly spaced: 0.126 s apart
    assert LIMITS["hunter.email_verifier"] == Limit(9.5, 285)
    assert LIMITS["perplexity.responses"] == Limit(0.95, 47.5, burst=47)  # 1.05 s apart at the closest
    for key, published in PUBLISHED_LIMITS.items():
        paced = LIMITS[key]
        assert paced.per_second >= 0.9 * published.per_second, key
        assert paced.per_minute >= 0.9 * published.per_minute, key
        assert published.interval / paced.interval >= 0.9, key
    assert {key for key, limit in LIMITS.items() if limit.burst > 1} == {"perplexity.responses"}


def test_rate_limits_are_kept_as_given_with_an_optional_burst() -> None:
    limits = parse_limits("perplexity.responses=3/150/150, hunter.email_verifier=10/300")
    assert limits["perplexity.responses"] == Limit(3, 150, burst=150)
    assert limits["hunter.email_verifier"] == Limit(10, 300)
    with pytest.raises(ValueError, match="burst"):
        parse_limits("perplexity.responses=3/150/0")
    with pytest.raises(ValueError, match="expected"):
        parse_limits("perplexity.responses=3/150/1/1")


def test_a_limit_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        Limit(0, 10)
    with pytest.raises(ValueError, match="limit"):
        Limit(1, 10, burst=0)


def test_the_interval_keeps_both_rates() -> None:
    assert Limit(10, 300).interval == pytest.approx(0.2)  # the minute binds: 5 a second on average
    assert Limit(2, 600).interval == pytest.approx(0.5)  # the second binds


# --- both limiters ---------------------------------------------------------------------------------------


async def test_never_more_than_the_limit_in_any_second_or_minute(make_limiter: Factory) -> None:
    t = FakeTime(T0)
    limiter = make_limiter({KEY: Limit(5, 20)}, t)
    granted: list[float] = []
    for _ in range(45):
        assert await limiter.acquire(KEY, Deadline.after(3600))
        granted.append(t.now)
    assert most_in_any_window(granted, 1.0) <= 5
    assert most_in_any_window(granted, 60.0) <= 20
    assert granted[-1] - granted[0] < 3 * 60  # and it does not crawl: 45 calls at 20 a minute


async def test_deadline_is_respected_when_no_slot_frees_in_time(make_limiter: Factory) -> None:
    t = FakeTime(T0)
    limiter = make_limiter({KEY: Limit(1, 1)}, t)
    assert await limiter.acquire(KEY, Deadline.after(10))
    slept_before = sum(t.sleeps)
    assert not await limiter.acquire(KEY, Deadline.after(5))  # the next slot is a minute away
    assert sum(t.sleeps) == slept_before  # it gave up at once, without sleeping


async def test_keys_are_paced_apart(make_limiter: Factory) -> None:
    t = FakeTime(T0)
    limiter = make_limiter({KEY: Limit(1, 1), "other": Limit(1, 1)}, t)
    assert await limiter.acquire(KEY, Deadline.after(1))
    assert await limiter.acquire("other", Deadline.after(1))


async def test_an_unknown_key_is_an_error(make_limiter: Factory) -> None:
    limiter = make_limiter({KEY: Limit(1, 1)}, FakeTime(T0))
    with pytest.raises(KeyError):
        await limiter.acquire("hunter.typo", Deadline.after(1))


async def test_a_bucket_lets_its_calls_through_at_the_spacing_then_keeps_the_minute_pace(
    make_limiter: Factory,
) -> None:
    t = FakeTime(T0)
    limiter = make_limiter({KEY: Limit(per_second=2, per_minute=6, burst=3)}, t)  # 0.5 s apart; 10 s steady

    async def take(n: int) -> list[float]:
        granted = []
        for _ in range(n):
            assert await limiter.acquire(KEY, Deadline.after(3600))
            granted.append(round(t.now - T0, 6))
        return granted

    assert await take(5) == [0.0, 0.5, 1.0, 10.0, 20.0]  # a full bucket, then one every 10 s
    t.now += 40.0  # idle: four calls' worth of refill, but the bucket holds no more than 3
    assert await take(5) == [60.0, 60.5, 61.0, 70.0, 80.0]


async def test_a_bucket_gives_up_at_once_when_its_next_call_is_past_the_deadline(
    make_limiter: Factory,
) -> None:
    t = FakeTime(T0)
    limiter = make_limiter({KEY: Limit(per_second=1, per_minute=2, burst=2)}, t)
    assert await limiter.acquire(KEY, Deadline.after(5))
    assert await limiter.acquire(KEY, Deadline.after(5))  # one second later, from the bucket
    assert not await limiter.acquire(KEY, Deadline.after(5))  # the bucket is empty: 30 s to the next
    assert t.now == T0 + 1


class LateTime(FakeTime):
    """Wakes its sleepers late by the given seconds, one after the other: a busy event loop."""

    def __init__(self, now: float, lateness: list[float]) -> None:
        super().__init__(now)
        self.lateness = lateness

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + (self.lateness.pop(0) if self.lateness else 0.0))


async def test_a_call_waits_for_the_spacing_after_the_previous_one_left_a_little_late(
    make_limiter: Factory,
) -> None:
    t = LateTime(T0, [0.02])
    limiter = make_limiter({KEY: Limit(per_second=1, per_minute=60)}, t)
    granted = []
    for _ in range(3):
        assert await limiter.acquire(KEY, Deadline.after(10))
        granted.append(t.now - T0)
    assert granted == pytest.approx([0.0, 1.02, 2.02])  # the third's slot is 2.0, but the second left at 1.02


async def test_a_call_that_would_leave_too_late_gives_its_slot_up_and_takes_the_next(
    make_limiter: Factory,
) -> None:
    """Woken 0.4 s after its slot (a busy event loop), a call does not go then: the holder of the next slot,
    in another process, would leave on time, 0.6 s after it."""
    t = LateTime(T0, [0.4])
    limiter = make_limiter({KEY: Limit(per_second=1, per_minute=60)}, t)
    granted = []
    for _ in range(3):
        assert await limiter.acquire(KEY, Deadline.after(10))
        granted.append(t.now - T0)
    assert granted == pytest.approx([0.0, 2.0, 3.0])  # the slot at 1.0 stays unused
    assert LATE_LIMIT < 0.4


class SlowWrites:
    """A DynamoDB client whose writes take `seconds` on the fake clock: a loaded table or network."""

    def __init__(self, client: Any, t: FakeTime, seconds: float) -> None:
        self._client, self._t, self._seconds = client, t, seconds
        self.writes = 0

    def update_item(self, **kwargs: Any) -> Any:
        self._t.now += self._seconds
        self.writes += 1
        return self._client.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


async def test_calls_whose_reservations_are_slow_still_leave_on_their_slots(client: Any) -> None:
    """A process whose reservation writes take 0.2 s and one whose writes are instant share a key spaced at
    1 s. Were the slow one to leave when its write returns, it would go 0.2 s after a slot computed before
    the write, 0.8 s before the other's next call. It reserves ahead by what its writes have been taking
    instead (its first slot, before it knew, is given up), so no two calls leave closer than the spacing
    less `LATE_LIMIT`, and the slot lost is the only one."""
    t = FakeTime(T0)
    limits = {KEY: Limit(per_second=1, per_minute=60)}
    slow_client = SlowWrites(client, t, 0.2)
    slow = DynamoRateLimiter(TABLE, slow_client, limits, serialize_calls=True, clock=t.clock, sleep=t.sleep)
    fast = dynamo_limiter(client, limits, t)
    left: list[float] = []
    for _ in range(6):  # each asks on an idle key, then the other asks at once: the worst case
        for limiter in (slow, fast):
            assert await limiter.acquire(KEY, Deadline.after(10))
            left.append(t.now)
        t.now += 5.0
    gaps = [b - a for a, b in itertools.pairwise(left)]
    assert min(gaps) >= 1.0 - LATE_LIMIT
    assert slow_client.writes == 6 + 1  # a reservation per call, and the first one lost


# --- the shared limiter ----------------------------------------------------------------------------------


async def test_two_limiters_sharing_the_table_space_their_calls_together(client: Any) -> None:
    t = FakeTime(T0)
    limits = {KEY: Limit(4, 240)}
    first, second = dynamo_limiter(client, limits, t), dynamo_limiter(client, limits, t)
    granted: list[float] = []

    async def take(limiter: DynamoRateLimiter) -> None:
        for _ in range(10):
            assert await limiter.acquire(KEY, Deadline.after(3600))
            granted.append(t.now)

    await asyncio.gather(take(first), take(second))
    assert len(granted) == 20
    assert most_in_any_window(granted, 1.0) <= 4


async def test_the_pace_row_expires_after_use(client: Any) -> None:
    t = FakeTime(T0)
    limiter = dynamo_limiter(client, {KEY: Limit(2, 60)}, t)
    assert await limiter.acquire(KEY, Deadline.after(10))
    [row] = rate_rows(client)
    assert row["PK"]["S"] == rate_pk(KEY)
    assert int(row["next_us"]["N"]) == round((T0 + 0.5) * 1_000_000)  # the spacing: half a second
    assert int(row["minute_us"]["N"]) == round((T0 + 1.0) * 1_000_000)  # the minute: one a second
    assert int(row["expires_at"]["N"]) > T0 + 1.0


async def test_a_row_from_before_the_minute_bucket_is_taken_over(client: Any) -> None:
    client.put_item(
        TableName=TABLE, Item={"PK": {"S": rate_pk(KEY)}, "SK": {"S": "RATE"}, "tat": {"N": str(T0 + 5)}}
    )
    t = FakeTime(T0)
    limiter = dynamo_limiter(client, {KEY: Limit(1, 60)}, t)
    assert await limiter.acquire(KEY, Deadline.after(10))
    assert await limiter.acquire(KEY, Deadline.after(10))
    assert t.now == T0 + 1.0


# --- the default paces against the simulator's model of each provider ---------------------------------------


def arrivals_of(granted: list[float], most_late: float, seed: int) -> list[float]:
    """When the calls reach the provider: each somewhat after its slot, by up to `most_late` seconds."""
    rng = random.Random(seed)
    return sorted(slot + rng.uniform(0.0, most_late) for slot in granted)


async def invocations(
    limiter: RateLimiter, key: str, t: FakeTime, runs: int, pattern: list[float]
) -> list[float]:
    """Calls taken as the processor takes them: as many as fit into each run's working time (the first
    number: pattern[0] s with none, then up to pattern[1] s of calls, then pattern[2] s without)."""
    granted: list[float] = []
    for _ in range(runs):
        quiet, working, after = pattern
        t.now += quiet
        end = t.now + working
        while await limiter.acquire(key, Deadline.after(end - t.now)):
            granted.append(t.now)
        t.now = end + after
    return granted


@pytest.mark.parametrize(
    ("pattern", "least_share"),
    [
        pytest.param([1.2, 23.8, 2.6], 0.9, id="invocations"),  # as the drain benchmark measured them
        pytest.param([0.0, 120.0, 0.0], 0.9, id="busy"),
        pytest.param([5.0, 10.0, 45.0], 0.0, id="mostly-idle"),
    ],
)
async def test_perplexitys_buckets_admit_every_call_at_the_default_pace(
    pattern: list[float], least_share: float
) -> None:
    """Arriving up to 50 ms late (and each by a different amount), every call fits the simulator's
    Perplexity model (a bucket of 50 a minute and one of 1 a second), after busy and idle stretches; and,
    leaving out the calls the bucket holds at the start, they use `least_share` of the published rate."""
    t = FakeTime(T0)
    key, runs = "perplexity.responses", 40
    granted = await invocations(LocalRateLimiter(LIMITS, clock=t.clock, sleep=t.sleep), key, t, runs, pattern)
    now = [0.0]
    buckets = TokenBuckets(clock=lambda: now[0])
    for now[0] in arrivals_of(granted, 0.05, seed=len(granted)):
        assert buckets.take("k", 50, 1.0).allowed, now[0] - T0
    assert len(granted) - LIMITS[key].burst >= least_share * 50 / 60 * runs * sum(pattern)


@pytest.mark.parametrize("key", ["hunter.domain_search", "hunter.email_verifier"])
async def test_hunters_windows_admit_every_call_at_the_default_pace(key: str) -> None:
    """Arriving up to 100 ms late, every call fits the simulator's Hunter model (sliding windows)."""
    t = FakeTime(T0)
    limiter = LocalRateLimiter(LIMITS, clock=t.clock, sleep=t.sleep)
    granted = await invocations(limiter, key, t, 10, [1.0, 60.0, 2.0])
    now = [0.0]
    windows = SlidingWindows(clock=lambda: now[0])
    published = PUBLISHED_LIMITS[key]
    for now[0] in arrivals_of(granted, 0.1, seed=7):
        assert (
            windows.admit(("k", key), [(int(published.per_second), 1.0), (int(published.per_minute), 60.0)])
            is None
        )
