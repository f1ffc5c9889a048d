"""Retention on DynamoDB (moto): every row that holds a lead or a result gets the table's TTL attribute with
the right epoch, its workspace's `results_retention_days` after its retention starts (an item's finish or
skip, a job's completion, cancel, failure or failed creation), never while a job runs; a retry takes it away
again; cached answers never outlive the shortest cache retention; an idempotency key whose job expired is
free.

moto keeps the TTL setting but never deletes: the tests read the attribute DynamoDB would delete by."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from leadenrich.aws import dynamo_ops
from leadenrich.aws.dynamo_cache import DynamoCache
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, create_table
from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings
from leadenrich.aws.dynamo_webhooks import DynamoWebhookLog
from leadenrich.jobs.models import ItemStatus, JobStatus
from leadenrich.jobs.ports import CounterDelta, IdempotencyConflict
from leadenrich.jobs.retention import CacheCap, CappedCache, RetentionSchedule
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.webhooks.outbound import Attempt, Delivery
from tests.support.store_contract import NOW, WS, claim, create, found, job_of, new_job

TABLE = "leadenrich-retention"
DAY = 86_400
T0 = int(NOW.timestamp())


@pytest.fixture
def client(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dynamo_ops, "backoff", lambda attempt: 0.0)
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


@pytest.fixture
def settings(client: Any) -> DynamoWorkspaceSettings:
    return DynamoWorkspaceSettings(TABLE, client, serialize_calls=True)


@pytest.fixture
async def store(client: Any, settings: DynamoWorkspaceSettings) -> DynamoJobStore:
    await settings.put(WS, WorkspaceSettings(results_retention_days=30))
    return DynamoJobStore(TABLE, client, serialize_calls=True, settings=settings)


def row(client: Any, pk: str, sk: str) -> dict[str, Any]:
    found_row: dict[str, Any] = client.get_item(TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}})[
        "Item"
    ]
    return found_row


def ttl(client: Any, pk: str, sk: str) -> int | None:
    value = row(client, pk, sk).get(TTL_ATTRIBUTE)
    return int(value["N"]) if value else None


def job_ttl(client: Any, job_id: str) -> int | None:
    return ttl(client, f"WS#{WS}#JOB#{job_id}", "JOB")


def item_ttl(client: Any, job_id: str, item_id: str = "000000") -> int | None:
    return ttl(client, f"WS#{WS}#JOB#{job_id}", f"ITEM#{item_id}")


async def test_items_expire_from_their_finish_and_the_job_from_its_completion(
    store: DynamoJobStore, client: Any
) -> None:
    await create(store, "j", 2)
    held = await claim(store, "j")
    assert job_ttl(client, "j") is None and item_ttl(client, "j") is None  # a running job never expires

    assert await store.finish_item(
        held, ItemStatus.FOUND, reason=None, result={"e": 1}, delta=found(), now=NOW
    )
    later = NOW + timedelta(hours=2)
    assert await store.skip_item(WS, "j", "000001", reason="job cancelled", now=later)
    assert item_ttl(client, "j", "000000") == T0 + 30 * DAY  # the workspace's 30 days, from the finish
    assert item_ttl(client, "j", "000001") == T0 + 2 * 3600 + 30 * DAY
    assert job_ttl(client, "j") is None  # still running until completed

    done = NOW + timedelta(hours=3)
    completed = await store.complete_job_if_done(WS, "j", done)
    assert completed is not None and completed.status is JobStatus.COMPLETED
    assert job_ttl(client, "j") == T0 + 3 * 3600 + 30 * DAY


async def test_without_settings_the_default_period_applies(client: Any) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)  # no settings store: the defaults
    await create(store, "j", 1)
    held = await claim(store, "j")
    assert await store.finish_item(
        held, ItemStatus.NOT_FOUND, reason="none", result=None, delta=found(), now=NOW
    )
    await store.complete_job_if_done(WS, "j", NOW)
    assert (
        item_ttl(client, "j") == job_ttl(client, "j") == T0 + WorkspaceSettings().results_retention_days * DAY
    )


async def test_another_workspace_keeps_its_own_period(
    store: DynamoJobStore, settings: DynamoWorkspaceSettings, client: Any
) -> None:
    await settings.put("ws2", WorkspaceSettings(results_retention_days=7))
    job, items = new_job("k", 1, workspace="ws2")
    await store.create_job(job, items)
    assert await store.cancel_job("ws2", "k", NOW) is not None
    assert ttl(client, "WS#ws2#JOB#k", "JOB") == T0 + 7 * DAY


async def test_a_cancelled_job_and_its_idempotency_row_expire_together(
    store: DynamoJobStore, client: Any
) -> None:
    await create(store, "j", 1, key="k-1")
    cancelled = await store.cancel_job(WS, "j", NOW)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert job_ttl(client, "j") == T0 + 30 * DAY
    assert ttl(client, f"WS#{WS}#IDEMP#k-1", "IDEMP") == T0 + 30 * DAY
    again = await store.cancel_job(WS, "j", NOW + timedelta(days=3))  # unchanged: still the first TTL
    assert again is not None and job_ttl(client, "j") == T0 + 30 * DAY


async def test_a_failed_job_and_its_idempotency_row_expire_from_its_failure(
    store: DynamoJobStore, client: Any
) -> None:
    await create(store, "j", 0, key="k-1")
    later = NOW + timedelta(hours=1)
    failed = await store.fail_job(WS, "j", later)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert job_ttl(client, "j") == ttl(client, f"WS#{WS}#IDEMP#k-1", "IDEMP") == T0 + 3600 + 30 * DAY
    assert await store.fail_job(WS, "j", later + timedelta(days=3)) is None
    assert job_ttl(client, "j") == T0 + 3600 + 30 * DAY


async def test_a_retry_reopens_the_job_and_its_items_without_ttl(store: DynamoJobStore, client: Any) -> None:
    await create(store, "j", 1)
    held = await claim(store, "j")
    failed = CounterDelta(failed=1)
    assert await store.finish_item(held, ItemStatus.FAILED, reason="boom", result=None, delta=failed, now=NOW)
    assert await store.complete_job_if_done(WS, "j", NOW) is not None
    assert item_ttl(client, "j") is not None and job_ttl(client, "j") is not None

    assert len(await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED}), NOW)) == 1
    assert (await job_of(store, "j")).status is JobStatus.RUNNING
    assert item_ttl(client, "j") is None and job_ttl(client, "j") is None


async def test_a_job_whose_items_could_not_be_written_fails_and_expires(
    client: Any, settings: DynamoWorkspaceSettings
) -> None:
    def batch_write_item(**request: Any) -> Any:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "no"}}, "BatchWriteItem")

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return batch_write_item if name == "batch_write_item" else getattr(client, name)

    await settings.put(WS, WorkspaceSettings(results_retention_days=10))
    store = DynamoJobStore(TABLE, Refusing(), serialize_calls=True, settings=settings)
    with pytest.raises(ClientError):
        await create(store, "j", 2)
    assert (await job_of(store, "j")).status is JobStatus.FAILED
    assert job_ttl(client, "j") == T0 + 10 * DAY  # created at NOW, failed then


async def test_an_idempotency_key_whose_job_expired_is_free_again(store: DynamoJobStore, client: Any) -> None:
    await create(store, "old", 1, key="k-1")
    with pytest.raises(IdempotencyConflict):
        await create(store, "new", 1, key="k-1")
    # The TTL took the job row first (DynamoDB deletes expired rows in no particular order).
    client.delete_item(TableName=TABLE, Key={"PK": {"S": f"WS#{WS}#JOB#old"}, "SK": {"S": "JOB"}})

    created = await create(store, "new", 1, key="k-1")
    assert created.job_id == "new"
    owner = await store.job_for_idempotency_key(WS, "k-1")
    assert owner is not None and owner.job_id == "new"


async def test_every_row_of_a_finished_job_carries_a_ttl(store: DynamoJobStore, client: Any) -> None:
    await create(store, "j", 3, key="k-2")
    for n in range(3):
        held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
        assert await store.finish_item(held, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=NOW)
    assert await store.complete_job_if_done(WS, "j", NOW) is not None

    rows = client.scan(TableName=TABLE)["Items"]
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for scanned in rows:
        by_entity.setdefault(scanned.get("entity", {}).get("S", "?"), []).append(scanned)
    assert {len(by_entity[e]) for e in ("job", "idempotency")} == {1} and len(by_entity["item"]) == 3
    for entity in ("job", "item", "idempotency"):
        assert all(int(r[TTL_ATTRIBUTE]["N"]) == T0 + 30 * DAY for r in by_entity[entity]), entity
    assert all(TTL_ATTRIBUTE not in r for r in by_entity["settings"])  # settings last until changed


async def test_cached_answers_never_outlive_the_shortest_cache_retention(
    client: Any, settings: DynamoWorkspaceSettings
) -> None:
    clock = float(T0)
    cap = CacheCap()
    cache = CappedCache(DynamoCache(TABLE, client, serialize_calls=True, clock=lambda: clock), cap)
    await cache.put("ds:acme.com", {"emails": []}, 60 * DAY)
    assert ttl(client, "CACHE#ds:acme.com", "CACHE") == T0 + 30 * DAY  # the default cap: 30 days
    await cache.put("ev:short", {"status": "unknown"}, 300)
    assert ttl(client, "CACHE#ev:short", "CACHE") == T0 + 300  # shorter than the cap: as asked

    await settings.put("strict", WorkspaceSettings(cache_retention_days=3))
    await settings.put("lax", WorkspaceSettings(cache_retention_days=365))
    schedule = RetentionSchedule([], settings, cache_cap=cap)
    run = await schedule.run_if_due(NOW)
    assert run is not None and cap.days == 3  # the shortest of every workspace's, for the shared cache
    await cache.put("ds:acme.com", {"emails": []}, 14 * DAY)
    assert ttl(client, "CACHE#ds:acme.com", "CACHE") == T0 + 3 * DAY
    assert await cache.get("ds:acme.com") == {"emails": []}


async def test_callback_records_expire_as_before(client: Any) -> None:
    """The webhook log's rows already carry their TTL: attempts and once-markers 30 days, events 7."""
    log = DynamoWebhookLog(TABLE, client, serialize_calls=True, now=lambda: float(T0))
    delivery = Delivery(WS, "j", "https://hooks.example.com/x", "evt_1", "{}")
    await log.record_attempt(delivery, Attempt(1, NOW, status_code=500))
    await log.schedule_once(delivery, NOW)
    await log.record_event("standard", "evt_9", {"type": "x"})
    attempt = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"WS#{WS}#HOOKS#j"}},
    )["Items"][0]
    assert int(attempt[TTL_ATTRIBUTE]["N"]) == T0 + 30 * DAY
    assert ttl(client, "HOOK#ONCE#evt_1", "ONCE") == T0 + 30 * DAY
    assert ttl(client, "HOOK#standard#EVT#evt_9", "EVENT") == T0 + 7 * DAY


def conforms(factory: Callable[[], DynamoWorkspaceSettings]) -> None:
    """mypy: the settings adapter is a `RetentionSchedule`'s settings lister."""
    RetentionSchedule([], factory())
