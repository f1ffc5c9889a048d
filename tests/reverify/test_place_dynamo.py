"""The sweep's place in the DynamoDB table on moto: stale addresses found through the workspace's job
partitions only (no Scan), oldest first and most used first; a verdict rewritten by compare-and-set in every
item holding the address, reported as changed only when its grade differs, idempotent, and another
workspace's items untouched."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_reverify import DynamoReverifyPlace
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.reverify.rules import Verdict
from tests.support.reverify_world import (
    CUTOFF,
    JOB_ID,
    NOW,
    OLDEST,
    OTHER,
    SHARED,
    SINGLE,
    VERIFIED,
    WS,
    graded,
    seed,
)

TABLE = "leadenrich-reverify"
GONE = Verdict("inactive", "undeliverable", "undeliverable", None)


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


class CountingClient:
    """The boto3 client, with the operations it was asked for."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


async def test_stale_addresses_come_from_the_workspace_s_partitions_in_order(client: Any) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    await seed(store)
    counting = CountingClient(client)
    place = DynamoReverifyPlace(TABLE, counting, serialize_calls=True)

    found = await place.stale(WS, CUTOFF, 10)
    assert [(a.email, a.uses) for a in found] == [(OLDEST, 1), (SHARED, 2), (SINGLE, 1)]
    assert [a.email for a in await place.stale(WS, CUTOFF, 1)] == [OLDEST]
    assert "scan" not in counting.calls and "query" in counting.calls
    assert await place.stale("ws-empty", CUTOFF, 10) == []


async def test_a_verdict_is_rewritten_where_held_and_only_a_new_grade_is_a_change(client: Any) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    await seed(store)
    place = DynamoReverifyPlace(TABLE, client, serialize_calls=True)

    rewrites = await place.apply(WS, OLDEST, GONE, NOW)
    assert [(r.place, r.email, r.before.graded(), r.changed, r.job_id) for r in rewrites] == [
        ("job_items", OLDEST, VERIFIED, True, JOB_ID[WS])
    ]
    assert graded(await store.get_item(WS, JOB_ID[WS], "000001"))[OLDEST] == (*GONE.graded(), None)
    assert graded(await store.get_item(OTHER, JOB_ID[OTHER], "000001"))[OLDEST][:3] == VERIFIED
    assert await place.apply(WS, OLDEST, GONE, NOW) == []  # written already: nothing more

    again = Verdict(*VERIFIED, NOW.isoformat())
    redated = await place.apply(WS, SHARED, again, NOW)
    assert [(r.changed, r.before.graded()) for r in redated] == [(False, VERIFIED), (False, VERIFIED)]
    assert [a.email for a in await place.stale(WS, CUTOFF, 10)] == [SINGLE]
