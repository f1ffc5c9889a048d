"""Rate limiters: the contract every adapter keeps (in-process, DynamoDB, SQLite), then what only the
DynamoDB one must do (share the pace between processes through its row). The SQLite limiter's sharing (two
processors on one file, threads, a restart) is tested in `tests/sqlite/test_sqlite_limiter.py`.

Time is a fake clock that moves only when a limiter sleeps, so waits of a minute take no real time. A
sleeping task moves the clock to its own wake-up time (not past it), so tasks that sleep together wake
together, as they would on a real clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_limiter import DynamoRateLimiter, rate_pk
from leadenrich.aws.dynamo_store import create_table
from leadenrich.deadline import Deadline
from leadenrich.ratelimit import LIMITS, PUBLISHED_LIMITS, Limit, LocalRateLimiter, RateLimiter
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
    return lambda limits, t: DynamoRateLimiter(
        TABLE, dynamo, limits, serialize_calls=True, clock=t.clock, sleep=t.sleep
    )


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


def test_limits_are_80_percent_of_the_published_rates_with_room_for_jitter() -> None:
    assert PUBLISHED_LIMITS["hunter.domain_search"] == Limit(15, 500)
    assert LIMITS["hunter.domain_search"] == Limit(12, 400)
    assert LIMITS["hunter.email_verifier"] == Limit(8, 240)
    assert LIMITS["perplexity.responses"] == Limit(1, 34)  # and room for arrival jitter: 1.76 s apart


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        Limit(0, 10)


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
    assert float(row["tat"]["N"]) == pytest.approx(T0 + 1.0)
    assert int(row["expires_at"]["N"]) > T0 + 1.0


def test_the_local_limiter_allows_a_burst_within_the_second() -> None:
    t = FakeTime(T0)
    limiter = LocalRateLimiter({KEY: Limit(3, 60)}, clock=t.clock, sleep=t.sleep)

    async def burst() -> list[bool]:
        return [await limiter.acquire(KEY, Deadline.after(0.01)) for _ in range(4)]

    assert asyncio.run(burst()) == [True, True, True, False]
