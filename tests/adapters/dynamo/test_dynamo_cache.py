"""The cache adapters: what both must do (the DynamoDB one against moto, the SQLite one on a file): round
trip, expiry, the size limit; then the DynamoDB rows: expiry before TTL deletion, and that cache rows live
beside job rows in the shared table without touching them. The SQLite file's own tests (a restart, purging)
are in `tests/adapters/sqlite/test_sqlite_cache.py`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_cache import MAX_VALUE_BYTES, DynamoCache
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.engine.cache import CachePort, ResultCache
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, Job, JobOptions, JobStatus
from leadenrich.sqlite.cache import SqliteCache

TABLE = "leadenrich-test"
T0 = 1_700_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dynamo_cache(client: Any, clock: Clock) -> DynamoCache:
    return DynamoCache(TABLE, client, serialize_calls=True, clock=clock)


@pytest.fixture(params=["dynamo", "sqlite"])
def cache(request: pytest.FixtureRequest, clock: Clock) -> DynamoCache | SqliteCache:
    """Each adapter in turn, on a fresh table or file, on the test's clock."""
    if request.param == "dynamo":
        dynamo_cache: DynamoCache = request.getfixturevalue("dynamo_cache")
        return dynamo_cache
    return SqliteCache(request.getfixturevalue("database"), clock=clock)


def raw_row(client: Any, key: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = client.get_item(
        TableName=TABLE, Key={"PK": {"S": f"CACHE#{key}"}, "SK": {"S": "CACHE"}}, ConsistentRead=True
    ).get("Item")
    return row


async def test_round_trip_keeps_nesting_floats_and_unicode(cache: CachePort) -> None:
    value: dict[str, Any] = {
        "emails": [{"value": "zoë@example.com", "confidence": 0.1 + 0.2, "sources": []}],
        "total": 3,
        "next": None,
        "ok": True,
    }
    await cache.put("v1:ds:example.com:ceo", value, 3600)

    assert await cache.get("v1:ds:example.com:ceo") == value
    assert await cache.get("v1:ds:example.com:cto") is None


async def test_put_overwrites_and_renews(cache: CachePort, clock: Clock) -> None:
    await cache.put("k", {"n": 1}, 10)
    clock.now += 8
    await cache.put("k", {"n": 2}, 10)
    clock.now += 8  # past the first entry's expiry, within the second's

    assert await cache.get("k") == {"n": 2}


async def test_an_entry_is_a_miss_from_its_expiry_on(cache: CachePort, clock: Clock) -> None:
    await cache.put("v1:ev:a@example.com", {"status": "unknown"}, 300)

    clock.now = T0 + 299
    assert await cache.get("v1:ev:a@example.com") == {"status": "unknown"}
    clock.now = T0 + 300
    assert await cache.get("v1:ev:a@example.com") is None


async def test_value_over_the_size_limit_is_refused_and_not_written(cache: CachePort) -> None:
    with pytest.raises(ValueError, match="bytes"):
        await cache.put("big", {"blob": "x" * MAX_VALUE_BYTES}, 60)
    with pytest.raises(ValueError, match="bytes"):  # counted in UTF-8 bytes, not characters
        await cache.put("big", {"blob": "é" * (MAX_VALUE_BYTES // 2)}, 60)
    assert await cache.get("big") is None

    near = {"blob": "x" * (MAX_VALUE_BYTES - 100)}
    await cache.put("near", near, 60)  # under the limit: DynamoDB takes it
    assert await cache.get("near") == near


async def test_serves_as_the_result_cache_port(cache: CachePort, clock: Clock) -> None:
    port: CachePort = cache
    results = ResultCache(port)

    await results.put_nothing_found("example.com", "jane doe", "no match")
    assert await results.nothing_found("example.com", "jane doe")
    clock.now += results.ttls.nothing_found + 1
    assert not await results.nothing_found("example.com", "jane doe")


# --- the DynamoDB rows ------------------------------------------------------------------------------------


async def test_expired_row_is_a_miss_before_ttl_deletes_it(
    dynamo_cache: DynamoCache, client: Any, clock: Clock
) -> None:
    cache = dynamo_cache
    await cache.put("v1:ev:a@example.com", {"status": "unknown"}, 300)
    row = raw_row(client, "v1:ev:a@example.com")
    assert row is not None
    assert int(row["expires_at"]["N"]) == T0 + 300  # epoch seconds: what DynamoDB's TTL reads

    clock.now = T0 + 299
    assert await cache.get("v1:ev:a@example.com") == {"status": "unknown"}
    clock.now = T0 + 300
    assert await cache.get("v1:ev:a@example.com") is None
    assert raw_row(client, "v1:ev:a@example.com") is not None  # still stored: expiry came from the check


async def test_a_refused_value_leaves_no_row(dynamo_cache: DynamoCache, client: Any) -> None:
    with pytest.raises(ValueError, match="bytes"):
        await dynamo_cache.put("big", {"blob": "x" * MAX_VALUE_BYTES}, 60)
    assert raw_row(client, "big") is None


async def test_unreadable_row_is_a_miss(dynamo_cache: DynamoCache, client: Any) -> None:
    cache = dynamo_cache
    client.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "CACHE#bad"},
            "SK": {"S": "CACHE"},
            "payload": {"S": "{not json"},
            "expires_at": {"N": str(int(T0) + 60)},
        },
    )
    client.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "CACHE#list"},
            "SK": {"S": "CACHE"},
            "payload": {"S": "[1, 2]"},
            "expires_at": {"N": str(int(T0) + 60)},
        },
    )

    assert await cache.get("bad") is None
    assert await cache.get("list") is None


async def test_cache_rows_are_isolated_from_job_rows(dynamo_cache: DynamoCache, client: Any) -> None:
    cache = dynamo_cache
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    created = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    job = Job("ws1", "j1", JobStatus.PENDING, created, JobOptions())
    await store.create_job(job, [Item("ws1", "j1", "000000", Lead(domain="example.com"))])

    # keys that spell a job row's PK and SK still land on their own rows
    await cache.put("WS#ws1#JOB#j1", {"cached": True}, 60)
    await cache.put("JOB", {"cached": "too"}, 60)

    stored = await store.get_job("ws1", "j1")
    assert stored is not None
    assert stored.status is JobStatus.PENDING
    assert stored.counters.total == 1
    assert [j.job_id for j in (await store.list_jobs("ws1")).items] == ["j1"]
    assert [i.item_id for i in (await store.list_items("ws1", "j1")).items] == ["000000"]
    assert await cache.get("WS#ws1#JOB#j1") == {"cached": True}
    assert await cache.get("j1") is None
    job_row = client.get_item(TableName=TABLE, Key={"PK": {"S": "WS#ws1#JOB#j1"}, "SK": {"S": "JOB"}})["Item"]
    assert "expires_at" not in job_row  # the job's row never gets the cache's TTL
