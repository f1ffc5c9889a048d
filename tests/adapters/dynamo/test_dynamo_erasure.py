"""The erasure's DynamoDB eraser on moto: the workspace's job items, the cache and the webhook records of the
shared table, and the lead buffer's rows, by the rules every store shares (tests/support/erasure_world.py); an
item (and a buffered lead) changed between the Scan and its rewrite; an item leaving the review queue with its
last pending address."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_buffer import DynamoLeadBuffer
from leadenrich.aws.dynamo_cache import DynamoCache
from leadenrich.aws.dynamo_erasure import DynamoErasure
from leadenrich.aws.dynamo_items import review_gsi_pk
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import create_table, item_key
from leadenrich.aws.dynamo_webhooks import DynamoWebhookLog
from tests.support.erasure_world import (
    ADA,
    ADA_HOOK,
    ADA_PERSON,
    BUFFER_ERASED,
    ERASED_COUNTS,
    JOB,
    NOW,
    OTHER,
    WS,
    check_buffer,
    check_cache,
    check_items,
    dynamo_text,
    erase_ada,
    hook_delivery,
    seed_buffer,
    seed_cache,
    seed_items,
    traces,
)

TABLE = "leadenrich-erasure"


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


async def test_an_erasure_leaves_nothing_of_the_person_in_the_workspace_or_the_shared_records(
    client: Any,
) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    hooks = DynamoWebhookLog(TABLE, client, serialize_calls=True)
    cache = DynamoCache(TABLE, client, serialize_calls=True)
    await seed_items(store)
    await seed_cache(cache)
    await hooks.schedule(hook_delivery(WS, ADA_HOOK), 1, NOW)
    await hooks.schedule(hook_delivery(OTHER, ADA_HOOK), 1, NOW)  # another workspace's callback
    await hooks.schedule(hook_delivery(WS, "https://hooks.example.com/plain"), 2, NOW)
    eraser = DynamoErasure(TABLE, client, serialize_calls=True)

    counts, links = await erase_ada(eraser)

    assert ADA_PERSON in links.people
    assert counts == ERASED_COUNTS
    await check_items(store)
    await check_cache(cache)
    due = await hooks.due(NOW, 10)
    assert {(d.workspace_id, d.url) for _, d, _ in due} == {
        (OTHER, ADA_HOOK),
        (WS, "https://hooks.example.com/plain"),
    }
    # Every row of the table but the other workspace's: nothing of her.
    assert traces(dynamo_text(client, TABLE, skip=(f"WS#{OTHER}#", "HOOK#OUTBOX"))) == []
    again, _ = await erase_ada(eraser)
    assert again == {place: (0, 0) for place in ERASED_COUNTS}


async def test_without_the_job_items_it_leaves_them_to_their_store(client: Any) -> None:
    await seed_items(DynamoJobStore(TABLE, client, serialize_calls=True))
    eraser = DynamoErasure(TABLE, client, items=False, serialize_calls=True)
    counts, links = await erase_ada(eraser)
    assert counts == {"cache": (0, 0), "webhooks": (0, 0)} and links.empty
    assert ADA in dynamo_text(client, TABLE, skip=(f"WS#{OTHER}#",))


async def test_an_item_changed_under_the_rewrite_is_read_and_scrubbed_again(client: Any) -> None:
    """Given a processor that requeues Ada's item between the Scan and the rewrite, the conditional write
    fails, the item is read again, and its new state is scrubbed: nothing is lost, nothing left."""
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    await seed_items(store)
    own = item_key(WS, JOB, "0001")
    fired: list[str] = []

    def requeue_first(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == own and not fired:
            fired.append("requeued")
            boto3.client("dynamodb", region_name="us-east-1").update_item(
                TableName=TABLE,
                Key=own,
                UpdateExpression="SET #s = :q",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":q": {"S": "queued"}},
            )

    event = "before-parameter-build.dynamodb.UpdateItem"
    client.meta.events.register(event, requeue_first)
    try:
        counts, _ = await erase_ada(DynamoErasure(TABLE, client, serialize_calls=True))
    finally:
        client.meta.events.unregister(event, requeue_first)
    assert fired == ["requeued"] and counts["job_items"] == (0, 4)
    item = await store.get_item(WS, JOB, "0001")
    assert item is not None and item.status.value == "queued" and item.reason == "erased"
    assert traces(json.dumps([item.lead.model_dump(), item.result])) == []


async def test_an_item_whose_last_pending_address_is_erased_leaves_the_review_queue(client: Any) -> None:
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    await seed_items(store)
    own = item_key(WS, JOB, "0001")
    row = client.get_item(TableName=TABLE, Key=own)["Item"]
    result = json.loads(row["result"]["S"])
    result["emails"] = [{**e, "review": "pending"} for e in result["emails"]]
    result["review_pending"] = len(result["emails"])
    client.update_item(
        TableName=TABLE,
        Key=own,
        UpdateExpression="SET #r = :r, GSI1PK = :pk, GSI1SK = :sk",
        ExpressionAttributeNames={"#r": "result"},
        ExpressionAttributeValues={
            ":r": {"S": json.dumps(result)},
            ":pk": {"S": review_gsi_pk(WS)},
            ":sk": {"S": f"{JOB}#0001"},
        },
    )

    await erase_ada(DynamoErasure(TABLE, client, serialize_calls=True))

    row = client.get_item(TableName=TABLE, Key=own)["Item"]
    assert "GSI1PK" not in row and "GSI1SK" not in row
    assert json.loads(row["result"]["S"])["review_pending"] == 0


async def test_an_erasure_reaches_the_lead_buffer_and_keeps_only_its_registrys_hash(client: Any) -> None:
    """Her buffered and served leads go (run row included), the company lead is rewritten without her even
    when a retried serve changed it between the Scan and the rewrite, and her registry entry stays as the
    keyed hash it is: the namespace never serves her lead again."""
    buffer = DynamoLeadBuffer(TABLE, client, serialize_calls=True)
    await seed_buffer(buffer)
    eraser = DynamoErasure(TABLE, client, items=False, buffer=True, serialize_calls=True)
    assert eraser.places == ("cache", "webhooks", "buffer")
    fired: list[str] = []

    def touch_first(params: dict[str, Any], **_: Any) -> None:
        if str(params.get("Key", {}).get("SK", {}).get("S", "")).startswith("LEAD#") and not fired:
            fired.append("touched")  # the company lead, re-served meanwhile: its updated_at moves
            boto3.client("dynamodb", region_name="us-east-1").update_item(
                TableName=TABLE,
                Key=params["Key"],
                UpdateExpression="SET updated_at = :now",
                ExpressionAttributeValues={":now": {"S": "2026-06-15T12:00:01.000000+00:00"}},
            )

    event = "before-parameter-build.dynamodb.UpdateItem"
    client.meta.events.register(event, touch_first)
    try:
        counts, links = await erase_ada(eraser)
    finally:
        client.meta.events.unregister(event, touch_first)

    assert fired == ["touched"] and ADA_PERSON in links.people
    assert counts == {"cache": (0, 0), "webhooks": (0, 0), "buffer": BUFFER_ERASED}
    await check_buffer(buffer)
    left = dynamo_text(client, TABLE, skip=(f"WS#{OTHER}#",))
    assert traces(left) == []
    sort_keys = [row["SK"]["S"] for row in json.loads(left)]
    assert "RUN#run-ada" not in sort_keys  # her run row went with her lead
    assert any(key.startswith("SERVED#p:") for key in sort_keys)  # her registry entry: a hash
    again, _ = await erase_ada(eraser)
    assert again["buffer"] == (0, 0)
