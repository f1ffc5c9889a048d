"""Rate limiters: the contract both adapters keep, then what only the DynamoDB one must do (share the count
between processes through window rows).

Time is a fake clock that moves only when a limiter sleeps, so waits of a minute take no real time. A
sleeping task moves the clock to its own wake-up time (not past it), so tasks that sleep together wake
together, as they would on a real clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from leadenrich.aws.dynamo_limiter import MINUTE, SECOND, DynamoRateLimiter, window_pk
from leadenrich.aws.dynamo_store import create_table
from leadenrich.deadline import Deadline
from leadenrich.ratelimit import LIMITS, PUBLISHED_LIMITS, Limit, LocalRateLimiter, RateLimiter

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
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for var, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        dynamo = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamo, TABLE)
        yield dynamo


Factory = Callable[[dict[str, Limit], FakeTime], RateLimiter]


@pytest.fixture(params=["local", "dynamo"])
def make_limiter(request: pytest.FixtureRequest) -> Factory:
    if request.param == "local":
        return lambda limits, t: LocalRateLimiter(limits, clock=t.clock, sleep=t.sleep)
    dynamo = request.getfixturevalue("client")
    return lambda limits, t: DynamoRateLimiter(
        TABLE, dynamo, limits, serialize_calls=True, clock=t.clock, sleep=t.sleep
    )


def dynamo_limiter(client: Any, limits: dict[str, Limit], t: FakeTime) -> DynamoRateLimiter:
    return DynamoRateLimiter(TABLE, client, limits, serialize_calls=True, clock=t.clock, sleep=t.sleep)


def window_count(client: Any, key: str, size: int, start: float) -> int:
    row = client.get_item(
        TableName=TABLE, Key={"PK": {"S": window_pk(key, size, int(start))}, "SK": {"S": "LIMIT"}}
    ).get("Item")
    return int(row["n"]["N"]) if row else 0


def limit_rows(client: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = client.scan(**kwargs)
        rows += [r for r in page["Items"] if r["PK"]["S"].startswith("LIMIT#")]
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# --- the published numbers ------------------------------------------------------------------------------


def test_limits_are_80_percent_of_the_published_rates() -> None:
    assert PUBLISHED_LIMITS["hunter.domain_search"] == Limit(15, 500)
    assert PUBLISHED_LIMITS["hunter.email_finder"] == Limit(15, 500)
    assert PUBLISHED_LIMITS["hunter.email_verifier"] == Limit(10, 300)
    assert PUBLISHED_LIMITS["perplexity.responses"] == Limit(1, 50)
    assert LIMITS["hunter.domain_search"] == Limit(12, 400)
    assert LIMITS["hunter.email_finder"] == Limit(12, 400)
    assert LIMITS["hunter.email_verifier"] == Limit(8, 240)
    assert LIMITS["perplexity.responses"] == Limit(1, 40)  # never below one a second


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Limit(0, 10)


# --- the contract, for both adapters --------------------------------------------------------------------


async def test_k_of_n_in_one_second_succeed_without_waiting_on_a_short_deadline(
    make_limiter: Factory,
) -> None:
    t = FakeTime(T0 + 0.5)
    limiter = make_limiter({KEY: Limit(per_second=3, per_minute=100)}, t)

    results = await asyncio.gather(*(limiter.acquire(KEY, Deadline.after(0.3)) for _ in range(7)))

    assert sorted(results) == [False] * 4 + [True] * 3
    assert t.sleeps == []
    assert t.now == T0 + 0.5


async def test_the_next_call_waits_for_the_window_when_the_deadline_allows(make_limiter: Factory) -> None:
    t = FakeTime(T0 + 0.5)
    limiter = make_limiter({KEY: Limit(per_second=3, per_minute=100)}, t)
    for _ in range(3):
        assert await limiter.acquire(KEY, Deadline.after(0.3))

    assert await limiter.acquire(KEY, Deadline.after(5))

    assert t.sleeps
    assert T0 + 1 <= t.now <= T0 + 1.6  # the next fixed window, or one second after the first call


async def test_a_full_minute_waits_for_the_next_minute(make_limiter: Factory) -> None:
    t = FakeTime(T0 + 10.5)
    limiter = make_limiter({KEY: Limit(per_second=10, per_minute=3)}, t)
    for _ in range(3):
        assert await limiter.acquire(KEY, Deadline.after(1))

    assert not await limiter.acquire(KEY, Deadline.after(30))
    assert t.sleeps == []  # gave up at once: the wait would have passed the deadline
    assert await limiter.acquire(KEY, Deadline.after(120))
    assert T0 + 60 <= t.now <= T0 + 70.6


async def test_deadline_is_respected_when_no_slot_frees_in_time(make_limiter: Factory) -> None:
    t = FakeTime(T0 + 0.2)
    limiter = make_limiter({KEY: Limit(per_second=1, per_minute=100)}, t)
    assert await limiter.acquire(KEY, Deadline.after(1))

    assert not await limiter.acquire(KEY, Deadline.after(0.5))
    assert t.now == T0 + 0.2
    assert await limiter.acquire(KEY, Deadline.unbounded())  # no deadline: it waits for the slot
    assert T0 + 1 <= t.now <= T0 + 1.3


async def test_keys_are_counted_apart(make_limiter: Factory) -> None:
    t = FakeTime(T0)
    limiter = make_limiter({"a": Limit(1, 10), "b": Limit(1, 10)}, t)

    assert await limiter.acquire("a", Deadline.after(0.1))
    assert await limiter.acquire("b", Deadline.after(0.1))
    assert not await limiter.acquire("a", Deadline.after(0.1))


async def test_an_unknown_key_is_an_error(make_limiter: Factory) -> None:
    limiter = make_limiter({KEY: Limit(1, 1)}, FakeTime(T0))
    with pytest.raises(KeyError):
        await limiter.acquire("hunter.emial_finder", Deadline.after(1))


# --- DynamoDB: rows, and limits held across processes ---------------------------------------------------


async def test_window_rows_count_the_slots_and_expire_after_their_window(client: Any) -> None:
    t = FakeTime(T0 + 0.5)
    limiter = dynamo_limiter(client, {KEY: Limit(per_second=2, per_minute=100)}, t)
    for _ in range(3):
        assert await limiter.acquire(KEY, Deadline.after(5))

    assert window_count(client, KEY, SECOND, T0) == 2
    assert window_count(client, KEY, SECOND, T0 + 1) == 1
    assert window_count(client, KEY, MINUTE, T0) == 3
    for row in limit_rows(client):
        size, start = (int(part) for part in row["PK"]["S"].rsplit("#", 2)[1:])
        assert int(row["expires_at"]["N"]) > start + size  # old windows go; a live one never does


async def test_a_slot_taken_while_the_minute_is_full_is_given_back(client: Any) -> None:
    t = FakeTime(T0 + 10.5)
    limiter = dynamo_limiter(client, {KEY: Limit(per_second=10, per_minute=3)}, t)
    for _ in range(3):
        assert await limiter.acquire(KEY, Deadline.after(1))

    assert not await limiter.acquire(KEY, Deadline.after(1))

    assert window_count(client, KEY, SECOND, T0 + 10) == 3  # the refused call's slot was returned
    assert window_count(client, KEY, MINUTE, T0) == 3


async def test_two_limiters_sharing_the_table_never_exceed_the_limit_together(client: Any) -> None:
    t = FakeTime(T0)
    limits = {KEY: Limit(per_second=3, per_minute=10)}
    first = dynamo_limiter(client, limits, t)
    second = dynamo_limiter(client, limits, t)  # another process: its own instance, the same table

    results = await asyncio.gather(
        *(limiter.acquire(KEY, Deadline.after(90)) for _ in range(15) for limiter in (first, second))
    )

    # two minute windows fit in 90 s: exactly 2 x 10 calls get through, the rest give up
    assert results.count(True) == 20
    rows = limit_rows(client)
    seconds = [int(r["n"]["N"]) for r in rows if f"#{SECOND}#" in r["PK"]["S"]]
    minutes = [int(r["n"]["N"]) for r in rows if f"#{MINUTE}#" in r["PK"]["S"]]
    assert max(seconds) <= 3
    assert sorted(minutes) == [10, 10]
    assert sum(seconds) == 20  # every slot counted is a call made
    assert t.now < T0 + 90
