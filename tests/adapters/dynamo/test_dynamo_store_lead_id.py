"""Items keep the Supabase lead they write addresses for (`Item.lead_id`) through the DynamoDB store."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, Job, JobStatus

WS = "default"


async def test_lead_id_round_trips_on_create_append_and_claim(mocked_aws: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamodb, "t")
    store = DynamoJobStore("t", dynamodb, serialize_calls=True)
    lead_id = "6f042a7e-71b9-4bc0-b4b9-bef51c4fd88e"
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    job = await store.create_job(
        Job(WS, "j", JobStatus.PENDING, now),
        [
            Item(WS, "j", "000000", Lead(domain="acme.com"), lead_id=lead_id),
            Item(WS, "j", "000001", Lead(domain="b.com")),
        ],
    )
    await store.append_items(job, [Item(WS, "j", "000002", Lead(domain="c.com"), lead_id=lead_id)])

    items = (await store.list_items(WS, "j")).items
    assert [i.lead_id for i in items] == [lead_id, None, lead_id]
    claimed = await store.claim_item(WS, "j", "000002", token="t", lease_until=now.replace(hour=10), now=now)
    assert claimed is not None and claimed.lead_id == lead_id
    raw = dynamodb.get_item(TableName="t", Key={"PK": {"S": f"WS#{WS}#JOB#j"}, "SK": {"S": "ITEM#000001"}})
    assert "lead_id" not in raw["Item"]  # absent, never NULL
