"""The DynamoDB suppression list on moto, held to the shared contract (tests/adapters/sqlite/
test_suppression_list.py), then what is its own: the rows sit in the shared table's `SUPPRESS#` partitions
with no address or name in clear and no TTL, and a throttled batch read is asked again."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_suppression import DynamoSuppressionList
from leadenrich.privacy.ports import SERVICE_WIDE, SuppressionList, SuppressionReason
from tests.adapters.sqlite.test_suppression_list import ADA, GLOBEX, GRACE, SuppressionListContract, entry

TABLE = "leadenrich-test"


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


def list_on(client: Any) -> DynamoSuppressionList:
    return DynamoSuppressionList(TABLE, client, serialize_calls=True)  # moto is not thread-safe


def conforms(suppressions: DynamoSuppressionList) -> SuppressionList:
    """mypy checks the adapter against the port here."""
    return suppressions


class TestDynamoSuppressionList(SuppressionListContract):
    @pytest.fixture
    def suppressions(self, client: Any) -> DynamoSuppressionList:
        return list_on(client)


async def test_rows_are_in_the_suppression_partitions_with_nothing_in_clear(client: Any) -> None:
    await list_on(client).add(
        [entry(ADA), entry(GLOBEX), entry(GRACE, SERVICE_WIDE, SuppressionReason.OPTED_OUT)]
    )
    rows = client.scan(TableName=TABLE)["Items"]
    assert {(r["PK"]["S"], r["SK"]["S"]) for r in rows} == {
        ("SUPPRESS#acme", ADA.key),
        ("SUPPRESS#acme", "d:globex.io"),  # a company's domain is kept readable
        ("SUPPRESS#*", GRACE.key),
    }
    text = repr(rows).lower()
    assert "lovelace" not in text and "ada.l" not in text and "grace" not in text and "hopper" not in text
    assert all("expires_at" not in r for r in rows)  # a suppression does not expire
    service_wide = next(r for r in rows if r["PK"]["S"] == "SUPPRESS#*")
    assert service_wide["reason"] == {"S": "opted_out"} and service_wide["label"] == {"S": "g. h. @ navy.mil"}


async def test_keys_left_unprocessed_are_asked_again(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB may answer part of a BatchGetItem and hand the rest back (throttling): asked again until
    every key is read."""
    suppressions = list_on(client)
    await suppressions.add([entry(ADA), entry(GRACE, SERVICE_WIDE)])
    real = client.batch_get_item
    answers: list[int] = []

    def one_key_at_a_time(RequestItems: dict[str, Any]) -> dict[str, Any]:  # boto3's name
        request = RequestItems[TABLE]
        first, rest = request["Keys"][:1], request["Keys"][1:]
        response: dict[str, Any] = real(RequestItems={TABLE: {**request, "Keys": first}})
        answers.append(len(first))
        if rest:
            response["UnprocessedKeys"] = {TABLE: {**request, "Keys": rest}}
        return response

    monkeypatch.setattr(client, "batch_get_item", one_key_at_a_time)
    found = await suppressions.suppressed("acme", [ADA.key, GRACE.key, GLOBEX.key])
    assert found == {ADA.key, GRACE.key}
    assert answers == [1] * 6  # two partitions x three keys, one per answer
