"""A hard bounce's marks in the DynamoDB table on moto: the workspace's items holding the address, found
through its jobs' partitions only, marked by compare-and-set (a result changed since it was read is read
again), reported once as changed, and another workspace's identical items untouched."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_bounces import DynamoBouncedAddresses
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import create_table, item_key
from leadenrich.jobs.models import ItemStatus, Job, JobStatus
from tests.support.bounce_world import (
    BOUNCED,
    JOB_ID,
    KEPT,
    LEAD,
    NOW,
    OTHER,
    UNDELIVERABLE,
    WS,
    addresses_of,
    found_result,
    seed_items,
)

TABLE = "leadenrich-bounces"


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


async def test_the_workspace_s_items_are_marked_once_and_another_workspace_s_are_not(client: Any) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    await seed_items(store)
    second = Job(WS, "job_second", JobStatus.RUNNING, NOW)  # a second job of the workspace holds it too
    first = await store.get_item(WS, JOB_ID[WS], "000000")
    assert first is not None
    await store.create_job(second, [dataclasses.replace(first, job_id="job_second")])
    marks = DynamoBouncedAddresses(TABLE, client, serialize_calls=True)

    held = await marks.mark_undeliverable(WS, [BOUNCED], NOW)
    assert sorted((h.place, h.email, h.changed, h.guessed, h.lead) for h in held) == [
        ("job_items", BOUNCED, True, True, LEAD),
        ("job_items", BOUNCED, True, True, LEAD),
    ]
    for job_id in (JOB_ID[WS], "job_second"):
        item = await store.get_item(WS, job_id, "000000")
        assert item is not None and item.status is ItemStatus.FOUND
        assert addresses_of(item) == {BOUNCED: UNDELIVERABLE, KEPT: ("active", "deliverable", "verified")}
    other = await store.get_item(OTHER, JOB_ID[OTHER], "000000")
    assert other is not None and other.result == found_result()

    again = await marks.mark_undeliverable(WS, [BOUNCED], NOW)
    assert [h.changed for h in again] == [False, False]  # marked already: nothing written, nothing counted
    assert await marks.mark_undeliverable(WS, ["nobody@acme.com"], NOW) == []


async def test_a_result_changed_since_it_was_read_is_read_again_and_marked(client: Any) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    await seed_items(store)
    marks = DynamoBouncedAddresses(TABLE, client, serialize_calls=True)
    key = item_key(WS, JOB_ID[WS], "000000")
    stale = client.get_item(TableName=TABLE, Key=key)["Item"]
    # Meanwhile a reviewer's decision (or a rerun) rewrote the result.
    changed = found_result() | {"reason": "rerun"}
    client.update_item(
        TableName=TABLE,
        Key=key,
        UpdateExpression="SET #r = :r",
        ExpressionAttributeNames={"#r": "result"},
        ExpressionAttributeValues={":r": {"S": json.dumps(changed)}},
    )
    held = await marks._mark(stale, frozenset({BOUNCED}), NOW)
    assert [(h.email, h.changed) for h in held] == [(BOUNCED, True)]
    item = await store.get_item(WS, JOB_ID[WS], "000000")
    assert item is not None and item.result is not None
    assert item.result["reason"] == "rerun"  # the newer result kept, and marked
    assert addresses_of(item)[BOUNCED] == UNDELIVERABLE
