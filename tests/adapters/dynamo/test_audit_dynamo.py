"""The DynamoDB audit log on moto: the `AuditLog` contract (`tests/adapters/sqlite/test_audit_contract.py`),
and its rows as the template's IAM and the table's TTL expect them: in the workspace's `WS#{ws}#AUDIT`
partition, keyed by time then id, with `expires_at` at the entry's time plus the retention; appended with a
condition, so an existing row is never replaced; a filtered listing pages through many rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_audit import DynamoAuditLog, audit_pk
from leadenrich.aws.dynamo_schema import create_table
from leadenrich.jobs.encoding import ts
from leadenrich.privacy.audit import AuditRetention
from leadenrich.privacy.ports import AuditLog, AuditQuery
from tests.adapters.sqlite.test_audit_contract import AuditLogContract, MakeLog, Settings, entry, everything

TABLE = "leadenrich-audit"


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


def log_on(client: Any, retention: AuditRetention | None = None) -> DynamoAuditLog:
    return DynamoAuditLog(TABLE, client, retention=retention, serialize_calls=True)  # moto: not thread-safe


class TestDynamoAuditLog(AuditLogContract):
    @pytest.fixture
    def make_log(self, client: Any) -> MakeLog:
        return lambda retention: log_on(client, retention)


def conforms(log: DynamoAuditLog) -> AuditLog:
    """mypy checks the adapter against the port here."""
    return log


def rows(client: Any) -> list[dict[str, Any]]:
    return list(client.scan(TableName=TABLE)["Items"])


async def test_an_entry_is_a_row_of_the_workspace_s_audit_partition_with_its_ttl(client: Any) -> None:
    written = await log_on(client, AuditRetention(Settings(days=400))).append(entry(detail={"requeued": 3}))
    [row] = rows(client)
    assert row["PK"] == {"S": "WS#acme#AUDIT"} == {"S": audit_pk("acme")}
    assert row["SK"] == {"S": f"{ts(written.at)}#{written.entry_id}"}
    assert int(row["expires_at"]["N"]) == int((written.at + timedelta(days=400)).timestamp())
    assert row["actor"] == {"S": "key_0123456789abcdef"} and row["source_ip"] == {"S": "203.0.113.7"}
    assert row["detail"] == {"S": '{"requeued":3}'}


async def test_the_default_retention_is_a_year(client: Any) -> None:
    written = await log_on(client).append(entry())
    [row] = rows(client)
    assert int(row["expires_at"]["N"]) == int((written.at + timedelta(days=365)).timestamp())


async def test_an_append_never_replaces_a_row(client: Any) -> None:
    """The condition holds on the row's key: a put of an existing key is refused by DynamoDB."""
    audit = log_on(client)
    written = await audit.append(entry(target="first"))
    [row] = rows(client)
    replacement = dict(row, target={"S": "rewritten"})
    refused = await audit.conditional_write(
        "put_item", TableName=TABLE, Item=replacement, ConditionExpression="attribute_not_exists(PK)"
    )
    assert refused is None
    assert [e.target for e in (await audit.query(AuditQuery("acme"))).items] == [written.target]


async def test_a_filtered_listing_pages_through_many_rows(client: Any) -> None:
    """Filters apply after DynamoDB's Limit: a page keeps reading until it is full or the partition ends."""
    audit = log_on(client)
    for n in range(300):
        action = "results.read" if n % 100 == 0 else "job.update"
        await audit.append(entry(minutes_ago=n, action=action, target=f"t{n}"))
    page = await audit.query(AuditQuery("acme", action="results.read", limit=2))
    assert [e.target for e in page.items] == ["t0", "t100"]
    listed = await everything(audit, AuditQuery("acme", action="results.read", limit=2))
    assert [e.target for e in listed] == ["t0", "t100", "t200"]
