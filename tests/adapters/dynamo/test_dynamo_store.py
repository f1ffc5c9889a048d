"""The DynamoDB job store against moto: the shared `JobStore` contract, plus what is DynamoDB's own: the
table's keys and indexes (the sparse due index among them), batch writes and their retries, transaction
conflicts, cursors as start keys, the activity rows.

Races are run with asyncio.gather, so the calls really overlap in threads; the store serialises them over
moto (`serialize_calls=True`) because moto's transactions are not thread-safe. What the races then prove
is that the second writer's condition sees the first writer's change and fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from leadenrich.aws import dynamo_ops
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import DUE_INDEX, create_table
from leadenrich.jobs.encoding import BadCursor
from leadenrich.jobs.models import PAUSED_BY_CALLER, ItemStatus, JobKind, JobOptions, JobStatus
from leadenrich.jobs.ports import JobStore
from tests.support.store_contract import (
    NOW,
    WS,
    JobStoreContract,
    all_items,
    b64,
    claim,
    create,
    due_ids,
    found,
    item_of,
    job_of,
    listed_job_ids,
    new_job,
    scheduled,
)
from tests.support.store_contract_uploads import READING, upload_job

TABLE = "leadenrich-test"


@pytest.fixture
def client(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dynamo_ops, "backoff", lambda attempt: 0.0)
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


@pytest.fixture
def store(client: Any) -> DynamoJobStore:
    return DynamoJobStore(TABLE, client, serialize_calls=True)


def conforms(store: DynamoJobStore) -> JobStore:
    """mypy checks the adapter against the port here."""
    return store


class TestDynamoJobStore(JobStoreContract):
    """The shared contract (tests/support/store_contract.py) on DynamoDB."""


class Proxy:
    """The real client, with one method replaced: for faults DynamoDB produces but moto does not."""

    def __init__(self, client: Any, **overrides: Callable[..., Any]) -> None:
        self._client = client
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return self._overrides.get(name) or getattr(self._client, name)


# --- DynamoDB's own -----------------------------------------------------------------------------------------


def test_create_table_declares_keys_index_billing_and_ttl(client: Any) -> None:
    table = client.describe_table(TableName=TABLE)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "PK": "S",
        "SK": "S",
        "GSI1PK": "S",
        "GSI1SK": "S",
        "GSI2PK": "S",
        "GSI2SK": "S",
    }
    indexes = {
        gsi["IndexName"]: (
            [k["AttributeName"] for k in gsi["KeySchema"]],
            gsi["Projection"]["ProjectionType"],
        )
        for gsi in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {"GSI1": (["GSI1PK", "GSI1SK"], "ALL"), DUE_INDEX: (["GSI2PK", "GSI2SK"], "ALL")}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


async def test_filtered_listings_keep_querying_when_query_pages_hold_few_matches(
    store: DynamoJobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filters apply after Query's Limit: with tiny query pages the store keeps querying, cursor intact."""
    for n in range(12):
        await create(
            store, f"j{n:02d}", 0, created_at=NOW + timedelta(minutes=n), tags=("vip",) if n % 3 else ()
        )
        if n % 2:
            assert await store.start_job(WS, f"j{n:02d}", NOW)
    monkeypatch.setattr(dynamo_ops, "FILTERED_PAGE", 2)

    newest_first = [f"j{n:02d}" for n in reversed(range(12))]
    assert await listed_job_ids(store, 2, tag="vip") == [j for j in newest_first if int(j[1:]) % 3]
    pending = [j for j in newest_first if int(j[1:]) % 2 == 0]
    assert await listed_job_ids(store, 1, status=JobStatus.PENDING) == pending


async def test_cursors_are_start_keys_of_the_listing_they_continue(store: DynamoJobStore) -> None:
    await create(store, "j0", 3)
    for bad in [b64({"PK": "x"}), b64({"PK": "WS#ws1#JOB#j0", "SK": 1, "GSI1PK": "x", "GSI1SK": "y"})]:
        with pytest.raises(BadCursor, match=r"^cursor: "):
            await store.list_jobs(WS, cursor=bad)
    for bad in [b64({"PK": "WS#ws1#JOB#j0", "SK": "JOB"}), b64({"PK": "WS#ws1#JOB#j1", "SK": "ITEM#000000"})]:
        with pytest.raises(BadCursor, match=r"^cursor: "):
            await store.list_items(WS, "j0", cursor=bad)


async def test_items_are_written_in_batches_of_25(store: DynamoJobStore, client: Any) -> None:
    calls: list[int] = []
    client.meta.events.register(
        "before-parameter-build.dynamodb.BatchWriteItem",
        lambda params, **_: calls.append(len(params["RequestItems"][TABLE])),
    )

    await create(store, "big", 2500)

    assert calls == [25] * 100
    assert len(await all_items(store, "big")) == 2500


async def test_unprocessed_batch_items_are_retried_then_given_up_on(client: Any) -> None:
    def partial(keep: int) -> Callable[..., Any]:
        def batch_write_item(RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
            ((table, requests),) = RequestItems.items()
            if requests[:keep]:
                client.batch_write_item(RequestItems={table: requests[:keep]})
            return {"UnprocessedItems": {table: requests[keep:]} if requests[keep:] else {}}

        return batch_write_item

    flaky = DynamoJobStore(TABLE, Proxy(client, batch_write_item=partial(10)), serialize_calls=True)
    await create(flaky, "slow", 60)
    assert len(await all_items(flaky, "slow")) == 60

    stuck = DynamoJobStore(TABLE, Proxy(client, batch_write_item=partial(0)), serialize_calls=True)
    with pytest.raises(RuntimeError, match="not written"):
        await create(stuck, "stuck", 3)
    assert (await job_of(stuck, "stuck")).status is JobStatus.FAILED


async def test_activity_is_one_row_per_minute_expiring_two_days_after_its_last_write(
    store: DynamoJobStore, client: Any
) -> None:
    await create(store, "j", 4)
    for n, when in enumerate([NOW - timedelta(minutes=5), NOW, NOW, NOW + timedelta(seconds=59)]):
        held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
        assert await store.finish_item(
            held, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=when
        )

    rows = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"WS#{WS}#ACTIVITY"}},
    )["Items"]

    assert sorted((r["SK"]["S"], int(r["processed"]["N"])) for r in rows) == [
        ("MIN#2025-03-01T11:55", 1),
        ("MIN#2025-03-01T12:00", 3),
    ]
    assert all(int(r["expires_at"]["N"]) - NOW.timestamp() <= 2 * 86_400 + 59 for r in rows)


async def test_requeue_batches_past_the_transaction_limit_and_skips_items_changed_meanwhile(
    client: Any,
) -> None:
    interfered: list[str] = []

    def transact_write_items(**request: Any) -> Any:
        if not interfered:  # another writer changes one item after the store read it
            interfered.append("000100")
            client.update_item(
                TableName=TABLE,
                Key={"PK": {"S": f"WS#{WS}#JOB#j"}, "SK": {"S": "ITEM#000100"}},
                UpdateExpression="SET #s = :q",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":q": {"S": "queued"}},
            )
        return client.transact_write_items(**request)

    store = DynamoJobStore(
        TABLE, Proxy(client, transact_write_items=transact_write_items), serialize_calls=True
    )
    job, items = new_job("j", 120, item_status=ItemStatus.FAILED)
    job.counters.processed = job.counters.failed = 120
    await store.create_job(job, items)

    requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED}), NOW)

    assert len(requeued) == 119 and "000100" not in {i.item_id for i in requeued}
    counters = (await job_of(store, "j")).counters
    assert (counters.processed, counters.failed) == (1, 1)
    assert {i.status for i in await all_items(store, "j")} == {ItemStatus.QUEUED}


async def test_transaction_conflicts_are_retried_and_other_cancellations_raised(client: Any) -> None:
    cancellations: list[str] = []

    def transact_write_items(**request: Any) -> Any:
        if cancellations:
            reason = cancellations.pop(0)
            error = {"Code": "TransactionCanceledException", "Message": f"cancelled [{reason}]"}
            raise ClientError(
                {"Error": error, "CancellationReasons": [{"Code": reason}]}, "TransactWriteItems"
            )
        return client.transact_write_items(**request)

    store = DynamoJobStore(
        TABLE, Proxy(client, transact_write_items=transact_write_items), serialize_calls=True
    )
    await create(store, "j", 2)
    held = await claim(store, "j")
    cancellations += ["TransactionConflict", "TransactionConflict"]  # another item's write to the job row

    assert await store.finish_item(held, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW)
    assert not cancellations
    assert (await job_of(store, "j")).counters.processed == 1

    cancellations.append("ValidationError")
    with pytest.raises(ClientError):
        await store.skip_item(WS, "j", "000001", reason="cancelled", now=NOW)
    assert (await item_of(store, "j", "000001")).status is ItemStatus.QUEUED


async def test_rows_written_before_queue_windows_and_webhook_events_read_as_before(
    store: DynamoJobStore, client: Any
) -> None:
    """Jobs stored by an older version lack the attributes: no window (every item was enqueued at
    creation), completion callbacks only, and items whose successors need no sending."""
    await create(store, "old", 1)
    key = {"PK": {"S": f"WS#{WS}#JOB#old"}}
    client.update_item(
        TableName=TABLE,
        Key=key | {"SK": {"S": "JOB"}},
        UpdateExpression="REMOVE queue_window, webhook_events",
    )
    client.update_item(
        TableName=TABLE, Key=key | {"SK": {"S": "ITEM#000000"}}, UpdateExpression="REMOVE sent_next"
    )

    job = await store.get_job(WS, "old")
    item = await store.get_item(WS, "old", "000000")

    assert job is not None and job.options.queue_window is None
    assert job.options.webhook_events == ("job.completed",)
    assert item is not None and not item.sent_next


def job_row(client: Any, job_id: str) -> dict[str, Any]:
    """The job's row as stored, attribute values and all."""
    key = {"PK": {"S": f"WS#{WS}#JOB#{job_id}"}, "SK": {"S": "JOB"}}
    row: dict[str, Any] = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    return row


async def test_the_due_index_is_sparse_and_due_jobs_is_one_query_of_it(
    store: DynamoJobStore, client: Any
) -> None:
    """Only a job with a due time has the due index's keys, every write that clears the due time removes
    them, and `due_jobs` reads the index with one Query: never a Scan of the table."""
    due, later = NOW - timedelta(minutes=1), NOW + timedelta(hours=1)
    await scheduled(store, "s", due)
    await create(store, "plain", 1)
    assert {"GSI2PK", "GSI2SK"} <= set(job_row(client, "s")) and job_row(client, "s")["due_at"]
    assert not {"GSI2PK", "GSI2SK", "due_at"} & set(job_row(client, "plain"))
    calls: list[tuple[str, Any]] = []
    client.meta.events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: calls.append(("query", params))
    )
    client.meta.events.register(
        "before-parameter-build.dynamodb.Scan", lambda params, **_: calls.append(("scan", params))
    )

    assert await due_ids(store) == [(WS, "s")]

    ((operation, params),) = calls
    assert operation == "query" and params["IndexName"] == DUE_INDEX
    assert await store.update_job(
        WS, "s", options=JobOptions(run_at=later), due_at=later, expected_due_at=due, now=NOW
    )
    assert job_row(client, "s")["GSI2SK"]["S"].startswith("2025-03-01T13:00:00")
    assert await store.release_due(WS, "s", later)
    assert not {"GSI2PK", "GSI2SK", "due_at"} & set(job_row(client, "s"))
    assert await store.update_job(
        WS, "plain", options=JobOptions(), due_at=due, expected_due_at=None, now=NOW
    )
    assert await store.update_job(
        WS, "plain", options=JobOptions(), due_at=None, expected_due_at=due, now=NOW
    )
    assert not {"GSI2PK", "GSI2SK", "due_at"} & set(job_row(client, "plain"))
    assert await due_ids(store, NOW + timedelta(days=1)) == []


async def test_rows_written_before_job_control_read_as_enrichment_jobs_without_schedule_or_caps(
    store: DynamoJobStore, client: Any
) -> None:
    """Jobs stored by an older version lack kind, run_at, the caps, the reason and the due time: they read
    as unscheduled, uncapped enrichment jobs, and can be paused and rescheduled."""
    job, items = new_job("old", 1)
    options = JobOptions(kind=JobKind.VERIFICATION, run_at=NOW, max_credits=1.0, max_cost_usd=2.0)
    await store.create_job(replace(job, options=options, due_at=NOW), items)
    client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": f"WS#{WS}#JOB#old"}, "SK": {"S": "JOB"}},
        UpdateExpression="REMOVE kind, run_at, max_credits, max_cost_usd, due_at, GSI2PK, GSI2SK",
    )

    old = await job_of(store, "old")

    assert old.options == JobOptions() and (old.paused_reason, old.due_at) == (None, None)
    paused = await store.pause_job(WS, "old", reason=PAUSED_BY_CALLER, now=NOW)
    assert paused is not None and paused.paused_reason == PAUSED_BY_CALLER
    assert await store.update_job(WS, "old", options=options, due_at=NOW, expected_due_at=None, now=NOW)
    assert await due_ids(store) == [(WS, "old")]


async def test_the_upload_state_is_one_json_string_attribute_and_a_failure_leaves_the_due_index(
    store: DynamoJobStore, client: Any
) -> None:
    """`JobOptions.upload` is stored as JSON text (no Decimal, no float refused by the codec), absent when
    unset; `fail_job` removes the due index's keys with the due time."""
    job = upload_job("u", READING, due=True)
    await store.create_job(job, [])
    stored = job_row(client, "u")["upload"]
    assert set(stored) == {"S"} and json.loads(stored["S"]) == READING.as_row()
    await create(store, "plain", 0)
    assert "upload" not in job_row(client, "plain")

    assert await store.fail_job(WS, "u", NOW) is not None

    assert not {"GSI2PK", "GSI2SK", "due_at"} & set(job_row(client, "u"))
    assert job_row(client, "u")["upload"] == stored


async def test_a_page_refused_before_writing_costs_no_batch_write(store: DynamoJobStore, client: Any) -> None:
    """The job is read first: a page appended before, or to a job no longer pending, writes no item."""
    job = await create(store, "j", 0)
    await store.append_items(job, new_job("j", 30)[1])
    calls: list[str] = []
    client.meta.events.register(
        "before-parameter-build.dynamodb.BatchWriteItem", lambda **_: calls.append("batch_write_item")
    )

    with pytest.raises(ValueError, match=r"^items: .*stored already"):
        await store.append_items(job, new_job("j", 30)[1])
    await store.cancel_job(WS, "j", NOW)
    with pytest.raises(ValueError, match=r"^job_id: "):
        await store.append_items(job, new_job("j", 31)[1][30:])

    assert calls == [] and (await job_of(store, "j")).counters.total == 30
