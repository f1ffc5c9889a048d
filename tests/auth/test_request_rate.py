"""The per-workspace request rate of the API: through the handler on moto (429 with Retry-After while
another workspace is served, every keyed route counted and `GET /health` never, nothing taken by what is
refused before a route runs, one bucket whichever process serves, 0 turns it off), then the buckets on both
adapters (DynamoDB, SQLite) on a fake clock: the burst and the rate, nothing taken by a refusal, one bucket
for two API processes sharing the table or the file, concurrent requests never past it.

The handler tests use a rate of one request per 1,000 s, so nothing refills while a test runs whatever the
machine's speed; the adapter tests move the limiters' injected clock themselves.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadenrich import runtime
from leadenrich.auth.request_rate import (
    RequestBuckets,
    RequestRateExceeded,
    RequestRateSettings,
    WorkspaceRequestRate,
    bucket_key,
)
from leadenrich.aws.dynamo_limiter import DynamoRateLimiter, rate_pk
from leadenrich.engine.ratelimit import Limit
from leadenrich.settings_errors import SettingsError
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.limiter import SqliteRateLimiter
from tests.adapters.dynamo.test_dynamo_limiter import T0, FakeTime
from tests.support.api_stack import TABLE, call

SLOW = "0.001"  # one request back every 1,000 s
SLOW_BURST = 3


@pytest.fixture
def slow_rate(stack: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSPACE_REQUESTS_PER_SECOND", SLOW)
    monkeypatch.setenv("WORKSPACE_REQUEST_BURST", str(SLOW_BURST))
    runtime.reset()


def spend_the_burst(workspace: str) -> None:
    for _ in range(SLOW_BURST):
        assert call("GET", "/jobs", workspace=workspace)[0] == 200


def request_rows(dynamodb: Any) -> list[dict[str, Any]]:
    rows = dynamodb.scan(TableName=TABLE)["Items"]
    return [r for r in rows if r["PK"]["S"].startswith(rate_pk("API#"))]


# --- through the API handler ----------------------------------------------------------------------------


@pytest.mark.usefixtures("slow_rate")
def test_a_workspace_past_its_rate_gets_429_with_retry_after_while_another_is_served() -> None:
    spend_the_burst("acme")
    status, answer, headers = call("GET", "/jobs", workspace="acme")
    assert status == 429
    assert answer["quota"] == "workspace_request_rate" and answer["limit"] == float(SLOW)
    assert answer["field"] is None and answer["errors"] == []
    assert answer["message"].startswith("request rate exceeded") and "bursts of 3" in answer["message"]
    assert 990 <= int(headers["Retry-After"]) <= 1000  # the next request is back 1,000 s after the first
    # Every keyed route is counted, and a refused request does nothing: no job is made, no quota taken.
    assert call("POST", "/jobs", workspace="acme", body={"domains": ["acme.com"]})[0] == 429
    assert call("GET", "/metrics", workspace="acme")[0] == 429
    assert call("POST", "/dlq/redrive", workspace="acme")[0] == 429
    assert asyncio.run(runtime.job_service().list_jobs("acme")).items == []
    # Another workspace has a bucket of its own.
    assert call("POST", "/jobs", workspace="globex", body={"domains": ["globex.io"]})[0] == 202
    assert call("GET", "/jobs", workspace="globex")[0] == 200


@pytest.mark.usefixtures("slow_rate")
def test_health_is_never_counted() -> None:
    for _ in range(3 * SLOW_BURST):
        assert call("GET", "/health", workspace=None)[0] == 200
        assert call("GET", "/health", workspace="acme")[0] == 200  # even with a workspace in the event
    spend_the_burst("acme")  # the whole burst is still there
    assert call("GET", "/jobs", workspace="acme")[0] == 429
    assert call("GET", "/health", workspace="acme")[0] == 200  # and health answers once it is spent


@pytest.mark.usefixtures("slow_rate")
def test_what_is_refused_before_a_route_runs_takes_nothing() -> None:
    for _ in range(2 * SLOW_BURST):
        assert call("GET", "/no-such-route", workspace="acme")[0] == 404
        assert call("PUT", "/jobs", workspace="acme")[0] == 405
        assert call("GET", "/jobs", workspace="acme", query={"limit": "0"})[0] == 422
        assert call("GET", "/jobs", workspace=None)[0] == 401
    spend_the_burst("acme")
    assert call("GET", "/jobs", workspace="acme")[0] == 429


@pytest.mark.usefixtures("slow_rate")
def test_the_limit_holds_whichever_api_process_serves_the_request() -> None:
    """Given every request served by a fresh process (new clients, new limiter), the bucket is the table's
    row, so the request past the burst is refused all the same."""
    for _ in range(SLOW_BURST):
        assert call("GET", "/jobs", workspace="acme")[0] == 200
        runtime.reset()
    assert call("GET", "/jobs", workspace="acme")[0] == 429


def test_zero_turns_the_limit_off(stack: None, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSPACE_REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("WORKSPACE_REQUEST_BURST", "1")
    runtime.reset()
    assert runtime.request_rate() is None
    for _ in range(30):
        assert call("GET", "/jobs", workspace="acme")[0] == 200
    assert request_rows(dynamodb) == []  # not even counted


def test_deployed_it_is_on_at_10_a_second_in_bursts_of_20(
    stack: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKSPACE_REQUESTS_PER_SECOND")
    runtime.reset()
    rate = runtime.request_rate()
    assert rate is not None
    settings = rate.settings
    assert (settings.workspace_requests_per_second, settings.workspace_request_burst) == (10, 20)
    assert settings.limit == Limit(per_second=math.inf, per_minute=600, burst=20)  # no spacing


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKSPACE_REQUESTS_PER_SECOND", "-1"),
        ("WORKSPACE_REQUESTS_PER_SECOND", "fast"),
        ("WORKSPACE_REQUESTS_PER_SECOND", "inf"),
        ("WORKSPACE_REQUEST_BURST", "0"),
        ("WORKSPACE_REQUEST_BURST", "2.5"),
    ],
)
def test_a_bad_setting_is_named(stack: None, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv("WORKSPACE_REQUESTS_PER_SECOND", "10")
    monkeypatch.setenv(name, value)
    runtime.reset()
    with pytest.raises(SettingsError, match=f"^{name}: "):
        runtime.request_rate()


# --- the buckets, on both adapters ----------------------------------------------------------------------

RATE = RequestRateSettings(workspace_requests_per_second=2, workspace_request_burst=3)  # a token every 0.5 s
Processes = Callable[[FakeTime], tuple[RequestBuckets, RequestBuckets]]


@pytest.fixture(params=["dynamo", "sqlite"])
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Processes]:
    """Two API processes' buckets on one table (each with its own client) or one file (each with its own
    connections), on the clock they are given."""
    if request.param == "dynamo":
        request.getfixturevalue("dynamodb")  # moto on, the table made
        clients = (boto3.client("dynamodb"), boto3.client("dynamodb"))
        yield lambda t: (
            DynamoRateLimiter(TABLE, clients[0], serialize_calls=True, clock=t.clock, sleep=t.sleep),
            DynamoRateLimiter(TABLE, clients[1], serialize_calls=True, clock=t.clock, sleep=t.sleep),
        )
        return
    first, second = Database(tmp_path / "state.sqlite3"), Database(tmp_path / "state.sqlite3")
    yield lambda t: (
        SqliteRateLimiter(first, clock=t.clock, sleep=t.sleep),
        SqliteRateLimiter(second, clock=t.clock, sleep=t.sleep),
    )
    first.close()
    second.close()


async def admitted(rate: WorkspaceRequestRate, workspace: str, tries: int) -> int:
    """How many of `tries` requests at this moment are let through."""
    taken = 0
    for _ in range(tries):
        try:
            await rate.admit(workspace)
        except RequestRateExceeded:
            continue
        taken += 1
    return taken


async def test_a_workspace_gets_its_burst_then_a_request_per_refill(processes: Processes) -> None:
    t = FakeTime(T0)
    rate = WorkspaceRequestRate(processes(t)[0], RATE)
    assert await admitted(rate, "acme", 3) == 3
    with pytest.raises(RequestRateExceeded) as refused:
        await rate.admit("acme")
    assert refused.value.retry_after_seconds == 1  # 0.5 s to the next token, in whole seconds
    assert (refused.value.per_second, refused.value.burst) == (2, 3)
    t.now += 0.25
    assert await admitted(rate, "acme", 1) == 0
    t.now += 0.25
    assert await admitted(rate, "acme", 5) == 1
    assert t.sleeps == []  # a refusal answers at once: nothing ever waits


async def test_refused_requests_take_nothing(processes: Processes) -> None:
    t = FakeTime(T0)
    rate = WorkspaceRequestRate(processes(t)[0], RATE)
    assert await admitted(rate, "acme", 100) == 3
    t.now += 0.5
    assert await admitted(rate, "acme", 100) == 1  # the hammering did not push the next token back
    t.now += 10
    assert await admitted(rate, "acme", 100) == 3  # a rested bucket holds the burst, never more


async def test_over_time_a_workspace_gets_the_burst_plus_the_rate(processes: Processes) -> None:
    t = FakeTime(T0)
    rate = WorkspaceRequestRate(processes(t)[0], RATE)
    total = 0
    for tenth in range(101):  # 10 s, five requests every 0.1 s
        t.now = T0 + tenth / 10
        total += await admitted(rate, "acme", 5)
    assert total == 3 + 2 * 10


async def test_workspaces_have_buckets_of_their_own(processes: Processes) -> None:
    t = FakeTime(T0)
    rate = WorkspaceRequestRate(processes(t)[0], RATE)
    assert await admitted(rate, "acme", 10) == 3
    assert await admitted(rate, "globex", 10) == 3
    assert bucket_key("acme") == "API#acme"


async def test_two_api_processes_share_one_bucket_per_workspace(processes: Processes) -> None:
    t = FakeTime(T0)
    first, second = (WorkspaceRequestRate(buckets, RATE) for buckets in processes(t))
    taken = [await admitted((first, second)[n % 2], "acme", 1) for n in range(10)]
    assert sum(taken) == 3
    t.now += 0.5
    assert await admitted(second, "acme", 5) + await admitted(first, "acme", 5) == 1


async def test_concurrent_requests_from_two_processes_never_pass_the_burst(processes: Processes) -> None:
    t = FakeTime(T0)
    first, second = (WorkspaceRequestRate(buckets, RATE) for buckets in processes(t))

    async def one(rate: WorkspaceRequestRate) -> bool:
        try:
            await rate.admit("acme")
        except RequestRateExceeded:
            return False
        return True

    answers = await asyncio.gather(*(one((first, second)[n % 2]) for n in range(20)))
    assert answers.count(True) == 3


async def test_the_dynamodb_row_expires_and_a_refusal_leaves_it_as_it_was(dynamodb: Any) -> None:
    t = FakeTime(T0)
    limiter = DynamoRateLimiter(TABLE, dynamodb, serialize_calls=True, clock=t.clock, sleep=t.sleep)
    rate = WorkspaceRequestRate(limiter, RATE)
    assert await admitted(rate, "acme", 3) == 3
    (row,) = request_rows(dynamodb)
    assert row["PK"]["S"] == "RATE#API#acme" and int(row["expires_at"]["N"]) > T0
    assert await admitted(rate, "acme", 3) == 0
    assert request_rows(dynamodb) == [row]
