"""The DynamoDB lead buffer on moto, held to the shared contract (tests/support/buffer_contract.py), then what
is its own: the rows' keys (the queue, the served listing, a run's row), claims that read the queue and never
Scan, and a run row left by a lead taken back after its lease."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_buffer import DynamoLeadBuffer
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings
from leadenrich.buffer.ports import LeadBuffer
from leadenrich.buffer.retention import REGISTRY_DAYS
from leadenrich.jobs.retention import retention_epoch
from leadenrich.privacy.ports import WorkspaceSettings
from tests.support.buffer_contract import FOUND, LEASE, NOW, NS, WS, LeadBufferContract, claimed, records
from tests.support.buffer_retention import UNVERIFIED

TABLE = "leadenrich-buffer"


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


def buffer_on(client: Any) -> DynamoLeadBuffer:
    return DynamoLeadBuffer(TABLE, client, serialize_calls=True)  # moto is not thread-safe


def conforms(buffer: DynamoLeadBuffer) -> LeadBuffer:
    """mypy checks the adapter against the port here."""
    return buffer


class TestDynamoLeadBuffer(LeadBufferContract):
    @pytest.fixture
    def buffer(self, client: Any) -> DynamoLeadBuffer:
        return buffer_on(client)


def rows(client: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["PK"]["S"], r["SK"]["S"]): r for r in client.scan(TableName=TABLE)["Items"]}


async def test_a_lead_moves_from_the_queue_to_the_served_listing(client: Any) -> None:
    buffer = buffer_on(client)
    pushed = records("acme.com", first_name="Ada", last_name="Lovelace")
    await buffer.push(WS, NS, pushed)
    key = (f"WS#{WS}#BUF#{NS}", f"LEAD#{pushed[0].lead_key}")
    queued = rows(client)[key]
    assert queued["GSI1PK"]["S"] == f"WS#{WS}#BUFQ#{NS}"
    assert queued["GSI1SK"]["S"].endswith(f"#{pushed[0].lead_id}")
    assert "lovelace" not in key[1].lower()  # the key is a keyed hash, never the name
    record = await claimed(buffer, "run-1")
    claimed_row = rows(client)[key]
    assert claimed_row["GSI1SK"]["S"].startswith((NOW + LEASE).isoformat(timespec="microseconds"))
    assert rows(client)[(f"WS#{WS}#BUF#{NS}", "RUN#run-1")]["lead_key"]["S"] == pushed[0].lead_key
    await buffer.serve(record, FOUND, NOW)
    served = rows(client)[key]
    assert served["GSI1PK"]["S"] == f"WS#{WS}#SERVED" and "lease_until" not in served
    # The lead expires by the workspace's results period (90 days by default) from its serve; the registry's
    # entry, its keyed identity only, by REGISTRY_DAYS (docs/buffer.md "Personal data").
    assert int(served["expires_at"]["N"]) == retention_epoch(NOW, 90)
    entry = rows(client)[(f"WS#{WS}#BUF#{NS}", f"SERVED#{pushed[0].lead_key}")]
    assert int(entry["expires_at"]["N"]) == retention_epoch(NOW, REGISTRY_DAYS)
    assert set(entry) == {"PK", "SK", "served_at", "entity", "expires_at"}


async def test_claims_query_the_queue_and_never_scan(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = buffer_on(client)
    await buffer.push(WS, NS, records("acme.com", "globex.io"))
    calls: list[str] = []
    real = buffer._call

    async def spy(operation: str, **kwargs: Any) -> Any:
        calls.append(operation)
        return await real(operation, **kwargs)

    monkeypatch.setattr(buffer, "_call", spy)
    record = await claimed(buffer)
    await buffer.serve(record, FOUND, NOW)
    assert "scan" not in calls and calls[0] == "query"


async def test_a_stale_run_row_is_replaced(client: Any) -> None:
    """Given run-1's claim taken back by run-2 after its lease and served, when run-1 asks again, then its
    old row (pointing at run-2's lead) is dropped and it gets a lead of its own."""
    buffer = buffer_on(client)
    await buffer.push(WS, NS, records("acme.com"))
    first = await claimed(buffer, "run-1", token="dead")
    later = NOW + LEASE * 2
    recovered = await claimed(buffer, "run-2", token="live", now=later)
    assert recovered.lead_id == first.lead_id
    await buffer.serve(recovered, FOUND, later)
    await buffer.push(WS, NS, records("globex.io", at=later))
    again = await claimed(buffer, "run-1", token="again", now=later)
    assert again.lead_id != first.lead_id and again.lead.domain == "globex.io"
    run_row = rows(client)[(f"WS#{WS}#BUF#{NS}", "RUN#run-1")]
    assert run_row["lead_key"]["S"] == again.lead_key


async def test_lead_rows_carry_their_workspaces_ttl_and_the_registry_outlives_them(client: Any) -> None:
    """The TTL of a waiting lead is the results period from its push; of a lead served with unverified
    addresses only, the unverified period from its serve. Once DynamoDB's TTL has taken a served lead's row,
    the registry still refuses it in its namespace."""
    settings = DynamoWorkspaceSettings(TABLE, client, serialize_calls=True)
    await settings.put(WS, WorkspaceSettings(results_retention_days=30, unverified_retention_days=7))
    buffer = DynamoLeadBuffer(TABLE, client, serialize_calls=True, settings=settings)
    pushed = records("unverified.com", "waiting.com")
    await buffer.push(WS, NS, pushed)
    later = NOW + timedelta(hours=1)
    await buffer.serve(await claimed(buffer), UNVERIFIED, later)
    served, waiting = (rows(client)[(f"WS#{WS}#BUF#{NS}", f"LEAD#{r.lead_key}")] for r in pushed)
    assert int(served["expires_at"]["N"]) == retention_epoch(later, 7)
    assert int(waiting["expires_at"]["N"]) == retention_epoch(NOW, 30)
    client.delete_item(TableName=TABLE, Key={"PK": served["PK"], "SK": served["SK"]})  # as the TTL does
    again = await buffer.push(WS, NS, records("unverified.com", at=later))
    assert (again.already_served, again.buffered) == (1, 0)
