"""The DynamoDB job store against moto: keys and listing, idempotency, batching, and every conditional write.

Races are run with asyncio.gather, so the calls really overlap in threads; the store serialises them over
moto (`serialize_calls=True`) because moto's transactions are not thread-safe. What the races then prove
is that the second writer's condition sees the first writer's change and fails.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from leadenrich.aws import dynamo_store
from leadenrich.aws.dynamo_store import DynamoJobStore, create_table
from leadenrich.jobs.models import Item, ItemStatus, Job, JobOptions, JobStatus
from leadenrich.jobs.ports import Activity, CounterDelta, IdempotencyConflict, JobStore
from leadenrich.models import Lead

TABLE = "leadenrich-test"
WS = "ws1"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)


@pytest.fixture
def client(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dynamo_store, "_backoff", lambda attempt: 0.0)
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


@pytest.fixture
def store(client: Any) -> DynamoJobStore:
    return DynamoJobStore(TABLE, client, serialize_calls=True)


def new_job(
    job_id: str,
    n_items: int = 1,
    *,
    workspace: str = WS,
    created_at: datetime = NOW,
    tags: tuple[str, ...] = (),
    key: str | None = None,
    item_status: ItemStatus = ItemStatus.QUEUED,
) -> tuple[Job, list[Item]]:
    job = Job(workspace, job_id, JobStatus.PENDING, created_at, JobOptions(tags=tags), idempotency_key=key)
    items = [
        Item(workspace, job_id, f"{i:06d}", Lead(domain=f"d{i}.example.com"), status=item_status)
        for i in range(n_items)
    ]
    return job, items


async def create(store: DynamoJobStore, job_id: str, n_items: int = 1, **kwargs: Any) -> Job:
    job, items = new_job(job_id, n_items, **kwargs)
    return await store.create_job(job, items)


async def claim(store: DynamoJobStore, job_id: str, item_id: str = "000000", token: str = "t1") -> Item:
    item = await store.claim_item(WS, job_id, item_id, token=token, lease_until=LEASE, now=NOW)
    assert item is not None
    return item


async def job_of(store: DynamoJobStore, job_id: str) -> Job:
    job = await store.get_job(WS, job_id)
    assert job is not None
    return job


async def item_of(store: DynamoJobStore, job_id: str, item_id: str = "000000") -> Item:
    item = await store.get_item(WS, job_id, item_id)
    assert item is not None
    return item


def found(cost: float = 0.0) -> CounterDelta:
    return CounterDelta(found=1, created_emails=1, api_calls_perplexity=1, cost_perplexity_usd=cost)


async def all_items(store: DynamoJobStore, job_id: str, limit: int = 1000) -> list[Item]:
    items: list[Item] = []
    cursor: str | None = None
    while True:
        page = await store.list_items(WS, job_id, limit=limit, cursor=cursor)
        items += page.items
        cursor = page.cursor
        if cursor is None:
            return items


class Proxy:
    """The real client, with one method replaced: for faults DynamoDB produces but moto does not."""

    def __init__(self, client: Any, **overrides: Callable[..., Any]) -> None:
        self._client = client
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return self._overrides.get(name) or getattr(self._client, name)


# --- table, create, get, list --------------------------------------------------------------------------


def test_create_table_declares_keys_index_billing_and_ttl(client: Any) -> None:
    table = client.describe_table(TableName=TABLE)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "PK": "S",
        "SK": "S",
        "GSI1PK": "S",
        "GSI1SK": "S",
    }
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "GSI1"
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["GSI1PK", "GSI1SK"]
    assert gsi["Projection"]["ProjectionType"] == "ALL"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


async def test_create_and_get_round_trip(store: DynamoJobStore) -> None:
    conforming: JobStore = store  # mypy checks the adapter against the port
    job = Job(
        WS,
        "job-1",
        JobStatus.PENDING,
        datetime(2025, 3, 1, 13, 0, tzinfo=UTC),
        JobOptions(
            priority=1, max_attempts=3, skip_existing=True, webhook_url="https://h.example", tags=("a",)
        ),
        idempotency_key="k1",
    )
    lead = Lead(domain="acme.com", company_name="Acme", first_name="Ada", external_id="x-1")
    items = [Item(WS, "job-1", "000000", lead), Item(WS, "job-1", "000001", Lead(domain="b.com"))]

    created = await conforming.create_job(job, items)

    assert created.counters.total == 2
    assert await store.get_job(WS, "job-1") == created
    assert await store.get_item(WS, "job-1", "000000") == items[0]
    assert await store.get_job(WS, "nope") is None
    assert await store.get_job("other-ws", "job-1") is None
    assert await store.get_item(WS, "job-1", "000009") is None


async def test_create_rejects_a_reused_job_id_and_foreign_items(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    with pytest.raises(ValueError, match=r"^job_id: "):
        await create(store, "j", 1)
    job, _ = new_job("k")
    _, foreign = new_job("j", 1)
    with pytest.raises(ValueError, match=r"^items: "):
        await store.create_job(job, foreign)
    assert await store.get_job(WS, "k") is None


async def test_list_jobs_newest_first_with_a_cursor_round_trip(store: DynamoJobStore) -> None:
    for n in range(5):
        await create(store, f"j{n}", 0, created_at=NOW + timedelta(minutes=n))
    await create(store, "elsewhere", 0, workspace="ws2", created_at=NOW + timedelta(hours=1))

    seen: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await store.list_jobs(WS, limit=2, cursor=cursor)
        seen.append([j.job_id for j in page.items])
        cursor = page.cursor
        if cursor is None:
            break

    assert seen == [["j4", "j3"], ["j2", "j1"], ["j0"]]


async def test_list_jobs_filters_by_status_and_tag_across_pages(
    store: DynamoJobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(12):
        await create(
            store, f"j{n:02d}", 0, created_at=NOW + timedelta(minutes=n), tags=("vip",) if n % 3 else ()
        )
        if n % 2:
            assert await store.start_job(WS, f"j{n:02d}", NOW)

    async def collect(limit: int, **filters: Any) -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            page = await store.list_jobs(WS, limit=limit, cursor=cursor, **filters)
            assert len(page.items) <= limit
            ids += [j.job_id for j in page.items]
            cursor = page.cursor
            if cursor is None:
                return ids

    newest_first = [f"j{n:02d}" for n in reversed(range(12))]
    vip = [j for j in newest_first if int(j[1:]) % 3]
    running_vip = [j for j in vip if int(j[1:]) % 2]
    assert await collect(2, tag="vip") == vip
    assert await collect(3, status=JobStatus.RUNNING, tag="vip") == running_vip
    assert await collect(50, status=JobStatus.CANCELLED) == []
    # Filters apply after Query's Limit: with tiny query pages the store must keep querying, cursor intact.
    monkeypatch.setattr(dynamo_store, "_FILTERED_PAGE", 2)
    assert await collect(2, tag="vip") == vip
    assert await collect(1, status=JobStatus.PENDING) == [j for j in newest_first if int(j[1:]) % 2 == 0]


async def test_malformed_or_foreign_cursors_are_value_errors_naming_the_cursor(store: DynamoJobStore) -> None:
    for n in range(3):
        await create(store, f"j{n}", 3, created_at=NOW + timedelta(minutes=n))
    jobs_cursor = (await store.list_jobs(WS, limit=1)).cursor
    items_cursor = (await store.list_items(WS, "j0", limit=1)).cursor
    assert jobs_cursor and items_cursor

    def b64(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    bad_job_cursors = ["%%%", b64("not a dict"), b64({"PK": "x"}), items_cursor]
    for bad in bad_job_cursors:
        with pytest.raises(ValueError, match=r"^cursor: "):
            await store.list_jobs(WS, cursor=bad)
    with pytest.raises(ValueError, match=r"^cursor: "):
        await store.list_jobs("ws2", cursor=jobs_cursor)
    for bad in ["%%%", jobs_cursor, b64({"PK": "WS#ws1#JOB#j0", "SK": "JOB"})]:
        with pytest.raises(ValueError, match=r"^cursor: "):
            await store.list_items(WS, "j0", cursor=bad)
    with pytest.raises(ValueError, match=r"^cursor: "):
        await store.list_items(WS, "j1", cursor=items_cursor)
    with pytest.raises(ValueError, match=r"^limit: "):
        await store.list_jobs(WS, limit=0)


async def test_idempotency_conflict_returns_the_first_job_and_stores_nothing_new(
    store: DynamoJobStore,
) -> None:
    first = await create(store, "first", 3, key="k")

    with pytest.raises(IdempotencyConflict) as conflict:
        await create(store, "second", 5, key="k")

    assert conflict.value.job == first
    assert await store.get_job(WS, "second") is None
    assert await all_items(store, "second") == []
    assert len(await all_items(store, "first")) == 3
    # The key is scoped to the workspace.
    assert (await create(store, "other", 1, key="k", workspace="ws2")).job_id == "other"


async def test_2500_items_are_all_stored_in_input_order(store: DynamoJobStore, client: Any) -> None:
    calls: list[int] = []
    client.meta.events.register(
        "before-parameter-build.dynamodb.BatchWriteItem",
        lambda params, **_: calls.append(len(params["RequestItems"][TABLE])),
    )

    job = await create(store, "big", 2500)

    assert job.counters.total == 2500
    assert (await job_of(store, "big")).counters.total == 2500
    assert calls == [25] * 100
    items = await all_items(store, "big", limit=1000)
    assert [i.item_id for i in items] == [f"{n:06d}" for n in range(2500)]
    queued = await store.list_items(WS, "big", status=ItemStatus.QUEUED, limit=10)
    assert [i.item_id for i in queued.items] == [f"{n:06d}" for n in range(10)]


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


# --- claim, finish, defer, skip ------------------------------------------------------------------------


async def test_double_claim_only_one_wins(store: DynamoJobStore) -> None:
    await create(store, "j", 1)

    claims = await asyncio.gather(
        *(store.claim_item(WS, "j", "000000", token=f"t{n}", lease_until=LEASE, now=NOW) for n in range(4))
    )

    winners = [c for c in claims if c is not None]
    assert len(winners) == 1
    stored = await item_of(store, "j")
    assert stored == winners[0]
    assert (stored.status, stored.attempts, stored.lease_until) == (ItemStatus.RUNNING, 1, LEASE)


async def test_an_expired_lease_can_be_reclaimed_and_the_old_holder_loses(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    first = await claim(store, "j", token="old")

    early = NOW + timedelta(minutes=4)
    assert await store.claim_item(WS, "j", "000000", token="new", lease_until=LEASE, now=early) is None
    late = LEASE + timedelta(seconds=1)
    second = await store.claim_item(
        WS, "j", "000000", token="new", lease_until=late + timedelta(minutes=5), now=late
    )

    assert second is not None and (second.lease_token, second.attempts) == ("new", 2)
    assert not await store.finish_item(
        first, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=late
    )
    assert not await store.defer_item(first, reason="x", next_attempt_at=late, charge_attempt=False, now=late)
    assert (await job_of(store, "j")).counters.processed == 0
    assert await store.finish_item(second, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=late)
    assert (await job_of(store, "j")).counters.processed == 1


async def test_items_of_a_cancelled_job_and_terminal_items_are_not_claimable(store: DynamoJobStore) -> None:
    await create(store, "cancelled", 1)
    await store.cancel_job(WS, "cancelled", NOW)
    assert await store.claim_item(WS, "cancelled", "000000", token="t", lease_until=LEASE, now=NOW) is None
    assert (await item_of(store, "cancelled")).status is ItemStatus.QUEUED

    await create(store, "done", 1)
    held = await claim(store, "done")
    assert await store.finish_item(
        held, ItemStatus.NOT_FOUND, reason="none", result=None, delta=CounterDelta(), now=NOW
    )
    much_later = NOW + timedelta(days=1)
    assert (
        await store.claim_item(WS, "done", "000000", token="t2", lease_until=much_later, now=much_later)
        is None
    )
    assert await store.claim_item(WS, "done", "000404", token="t", lease_until=LEASE, now=NOW) is None
    assert await store.claim_item(WS, "unknown", "000000", token="t", lease_until=LEASE, now=NOW) is None


async def test_finish_records_the_outcome_and_counts_exactly(store: DynamoJobStore) -> None:
    await create(store, "j", 3)
    result = {"status": "found", "retry_after": 0.1, "score": 1e-7, "emails": [{"email": "a@b.com"}]}
    for n in range(3):
        held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
        assert await store.finish_item(
            held, ItemStatus.FOUND, reason="ok", result=result, delta=found(cost=0.1), now=NOW
        )

    stored = await item_of(store, "j", "000001")
    assert (stored.status, stored.reason, stored.result) == (ItemStatus.FOUND, "ok", result)
    assert (stored.lease_token, stored.lease_until) == (None, None)
    counters = (await job_of(store, "j")).counters
    assert (counters.processed, counters.found, counters.created_emails, counters.api_calls_perplexity) == (
        3,
        3,
        3,
        3,
    )
    # The sum is decimal arithmetic in DynamoDB: in floats, 0.1 + 0.1 + 0.1 != 0.3.
    assert counters.cost_perplexity_usd == 0.3
    with pytest.raises(ValueError, match=r"^status: "):
        await store.finish_item(stored, ItemStatus.DEFERRED, reason=None, result=None, delta=found(), now=NOW)


async def test_finish_with_a_wrong_or_missing_token_writes_and_counts_nothing(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    held = await claim(store, "j", token="mine")

    for impostor in (replace(held, lease_token="theirs"), replace(held, lease_token=None)):
        assert not await store.finish_item(
            impostor, ItemStatus.FOUND, reason=None, result={"x": 1}, delta=found(), now=NOW
        )

    assert await item_of(store, "j") == held
    assert (await job_of(store, "j")).counters.processed == 0


async def test_concurrent_finishes_of_one_claim_count_once(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    held = await claim(store, "j")

    outcomes = await asyncio.gather(
        *(
            store.finish_item(held, status, reason=None, result=None, delta=delta, now=NOW)
            for status, delta in [
                (ItemStatus.FOUND, found()),
                (ItemStatus.FAILED, CounterDelta(failed=1)),
                (ItemStatus.FOUND, found()),
            ]
        )
    )

    assert sorted(outcomes) == [False, False, True]
    counters = (await job_of(store, "j")).counters
    assert counters.processed == 1
    assert counters.found + counters.failed == 1
    assert (await item_of(store, "j")).status in {ItemStatus.FOUND, ItemStatus.FAILED}


async def test_activity_counts_each_finish_once_in_its_minute_and_workspace(
    store: DynamoJobStore, client: Any
) -> None:
    await create(store, "j", 4)
    outcomes = [
        (NOW - timedelta(minutes=90), ItemStatus.FOUND, found()),  # before the window
        (NOW - timedelta(minutes=59), ItemStatus.FOUND, found()),
        (NOW - timedelta(minutes=5), ItemStatus.NOT_FOUND, CounterDelta()),
        (NOW, ItemStatus.DEAD, CounterDelta(failed=1)),
    ]
    for n, (when, status, delta) in enumerate(outcomes):
        held = await claim(store, "j", f"{n:06d}", token=f"t{n}")
        assert await store.finish_item(held, status, reason=None, result=None, delta=delta, now=when)
        # A duplicate finish of the same claim loses its lease and must not count again.
        assert not await store.finish_item(held, status, reason=None, result=None, delta=delta, now=when)
    await create(store, "other", 1, workspace="ws2")
    other = await store.claim_item("ws2", "other", "000000", token="o", lease_until=LEASE, now=NOW)
    assert other is not None
    assert await store.finish_item(other, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW)

    hour = await store.activity(WS, since=NOW - timedelta(hours=1), now=NOW)

    assert hour == Activity(processed=3, found=1, failed=1)
    assert (hour.success_rate, hour.found_rate) == (0.6667, 0.3333)
    assert await store.activity("ws2", since=NOW - timedelta(hours=1), now=NOW) == Activity(1, 1, 0)
    assert (await store.activity("nobody", since=NOW - timedelta(hours=1), now=NOW)).success_rate is None
    rows = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"WS#{WS}#ACTIVITY"}},
    )["Items"]
    assert len(rows) == 4  # one row per minute; each expires two days after its last write
    assert all(int(r["expires_at"]["N"]) - NOW.timestamp() <= 2 * 86_400 for r in rows)


async def test_defer_with_and_without_charging_the_attempt(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    held = await claim(store, "j", token="a")
    later = NOW + timedelta(minutes=10)

    assert await store.defer_item(
        held, reason="throttled", next_attempt_at=later, charge_attempt=True, now=NOW
    )
    deferred = await item_of(store, "j")
    assert (deferred.status, deferred.attempts, deferred.reason) == (ItemStatus.DEFERRED, 1, "throttled")
    assert (deferred.next_attempt_at, deferred.lease_token, deferred.lease_until) == (later, None, None)
    assert not await store.defer_item(
        held, reason="again", next_attempt_at=later, charge_attempt=True, now=NOW
    )

    again = await claim(store, "j", token="b")
    assert again.attempts == 2 and again.next_attempt_at is None
    assert await store.defer_item(
        again, reason="no time", next_attempt_at=later, charge_attempt=False, now=NOW
    )
    assert (await item_of(store, "j")).attempts == 1
    assert (await job_of(store, "j")).counters.processed == 0


async def test_a_deferral_bills_what_the_attempt_spent_once(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    held = await claim(store, "j", token="a")
    spent = CounterDelta(processed=0, api_calls_hunter=2, credits_hunter=1.5)
    later = NOW + timedelta(minutes=1)

    assert await store.defer_item(
        held, reason="202", next_attempt_at=later, charge_attempt=True, now=NOW, spent=spent
    )
    assert not await store.defer_item(  # the lease is gone: nothing written, nothing billed twice
        held, reason="202", next_attempt_at=later, charge_attempt=True, now=NOW, spent=spent
    )
    counters = (await job_of(store, "j")).counters
    assert (counters.processed, counters.api_calls_hunter, counters.credits_hunter) == (0, 2, 1.5)
    assert (await item_of(store, "j")).status is ItemStatus.DEFERRED


async def test_skip_counts_once_and_only_queued_or_deferred_items(store: DynamoJobStore) -> None:
    await create(store, "j", 2)
    await store.cancel_job(WS, "j", NOW)

    outcomes = await asyncio.gather(
        *(store.skip_item(WS, "j", "000000", reason="cancelled", now=NOW) for _ in range(3))
    )

    assert sorted(outcomes) == [False, False, True]
    assert (await job_of(store, "j")).counters.processed == 1
    skipped = await item_of(store, "j")
    assert (skipped.status, skipped.reason) == (ItemStatus.SKIPPED, "cancelled")

    await create(store, "live", 1)
    await claim(store, "live")
    assert not await store.skip_item(WS, "live", "000000", reason="cancelled", now=NOW)
    assert not await store.skip_item(WS, "gone", "000000", reason="cancelled", now=NOW)
    assert (await job_of(store, "live")).counters.processed == 0


# --- job transitions -------------------------------------------------------------------------------------


async def test_start_job_happens_once(store: DynamoJobStore) -> None:
    await create(store, "j", 1)
    assert await store.start_job(WS, "j", NOW)
    assert not await store.start_job(WS, "j", NOW + timedelta(seconds=1))
    job = await job_of(store, "j")
    assert (job.status, job.started_at) == (JobStatus.RUNNING, NOW)
    assert not await store.start_job(WS, "unknown", NOW)


async def test_complete_job_if_done_returns_the_job_to_exactly_one_caller(store: DynamoJobStore) -> None:
    await create(store, "j", 2)
    await store.start_job(WS, "j", NOW)
    first = await claim(store, "j", "000000")
    await store.finish_item(first, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=NOW)
    assert await store.complete_job_if_done(WS, "j", NOW) is None  # one item still to go

    second = await claim(store, "j", "000001")
    await store.finish_item(
        second, ItemStatus.NOT_FOUND, reason=None, result=None, delta=CounterDelta(), now=NOW
    )
    done = NOW + timedelta(minutes=1)
    winners = [
        j for j in await asyncio.gather(*(store.complete_job_if_done(WS, "j", done) for _ in range(3))) if j
    ]

    assert len(winners) == 1
    assert (winners[0].status, winners[0].completed_at, winners[0].counters.processed) == (
        JobStatus.COMPLETED,
        done,
        2,
    )
    assert await store.complete_job_if_done(WS, "j", done) is None


async def test_cancel_job(store: DynamoJobStore) -> None:
    await create(store, "j", 2)
    held = await claim(store, "j", "000000")
    await store.finish_item(
        held, ItemStatus.FOUND, reason=None, result={"kept": True}, delta=found(), now=NOW
    )

    cancelled = await store.cancel_job(WS, "j", NOW)

    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED
    assert await store.cancel_job(WS, "j", NOW) == cancelled
    assert (await item_of(store, "j", "000000")).result == {"kept": True}
    assert await store.cancel_job(WS, "unknown", NOW) is None

    await create(store, "empty", 0)
    completed = await store.complete_job_if_done(WS, "empty", NOW)
    assert completed is not None
    assert await store.cancel_job(WS, "empty", NOW) == completed


async def test_requeue_puts_failed_and_dead_items_back_and_adjusts_counters(store: DynamoJobStore) -> None:
    await create(store, "j", 4)
    await store.start_job(WS, "j", NOW)
    outcomes = [
        (ItemStatus.FOUND, found()),
        (ItemStatus.FAILED, CounterDelta(failed=1)),
        (ItemStatus.DEAD, CounterDelta(failed=1)),
        (ItemStatus.NOT_FOUND, CounterDelta()),
    ]
    for n, (status, delta) in enumerate(outcomes):
        held = await claim(store, "j", f"{n:06d}")
        assert await store.finish_item(held, status, reason="why", result={"r": n}, delta=delta, now=NOW)
    assert await store.complete_job_if_done(WS, "j", NOW) is not None

    later = NOW + timedelta(hours=1)
    requeued = await store.requeue_items(WS, "j", frozenset({ItemStatus.FAILED, ItemStatus.DEAD}), later)

    assert [i.item_id for i in requeued] == ["000001", "000002"]
    for item in requeued:
        assert await store.get_item(WS, "j", item.item_id) == item
        assert (item.status, item.attempts, item.reason, item.result) == (ItemStatus.QUEUED, 0, None, None)
    job = await job_of(store, "j")
    assert (job.status, job.completed_at) == (JobStatus.RUNNING, None)
    assert (job.counters.processed, job.counters.failed, job.counters.found) == (2, 0, 1)
    assert (await item_of(store, "j", "000000")).status is ItemStatus.FOUND
    assert (await claim(store, "j", "000001", token="retry")).attempts == 1
    assert await store.requeue_items(WS, "j", frozenset({ItemStatus.DEAD}), later) == []
    with pytest.raises(ValueError, match=r"^statuses: "):
        await store.requeue_items(WS, "j", frozenset({ItemStatus.RUNNING}), later)


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
