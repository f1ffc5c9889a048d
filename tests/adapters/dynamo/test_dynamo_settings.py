"""The workspace settings on DynamoDB (moto): defaults until set, one row per workspace in the settings
partition, read back whole, listed in one Query, rows of an older or newer version read leniently."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings
from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore
from leadenrich.privacy.settings import WorkspaceSettingsDirectory

TABLE = "leadenrich-settings"
STRICT = WorkspaceSettings(
    unverified_retention_days=7,
    results_retention_days=14,
    cache_retention_days=3,
    audit_retention_days=730,
    review_required=True,
    refused_countries=("DE", "FR"),
    flagged_countries=("GB",),
    default_lawful_basis="consent",
)


@pytest.fixture
def client(mocked_aws: None) -> Any:
    dynamo = boto3.client("dynamodb", region_name="us-east-1")
    create_table(dynamo, TABLE)
    return dynamo


@pytest.fixture
def store(client: Any) -> DynamoWorkspaceSettings:
    return DynamoWorkspaceSettings(TABLE, client, serialize_calls=True)


def conforms(store: DynamoWorkspaceSettings) -> tuple[WorkspaceSettingsStore, WorkspaceSettingsDirectory]:
    """mypy checks the adapter against the port and the directory here."""
    return store, store


async def test_defaults_until_set_then_the_stored_settings(store: DynamoWorkspaceSettings) -> None:
    assert await store.get("acme") == WorkspaceSettings()
    await store.put("acme", STRICT)
    assert await store.get("acme") == STRICT
    assert await store.get("globex") == WorkspaceSettings()  # the caller's own only
    await store.put("acme", WorkspaceSettings(review_required=True))  # replaced whole
    assert await store.get("acme") == WorkspaceSettings(review_required=True)


async def test_one_row_per_workspace_in_the_settings_partition(
    store: DynamoWorkspaceSettings, client: Any
) -> None:
    await store.put("acme", STRICT)
    row = client.get_item(TableName=TABLE, Key={"PK": {"S": "SETTINGS"}, "SK": {"S": "WS#acme"}})["Item"]
    assert row["refused_countries"] == {"L": [{"S": "DE"}, {"S": "FR"}]}
    assert row["results_retention_days"] == {"N": "14"} and row["review_required"] == {"BOOL": True}
    assert "expires_at" not in row and "GSI1PK" not in row  # never expires, never listed as a job


async def test_all_lists_every_workspace_with_settings(store: DynamoWorkspaceSettings) -> None:
    assert await store.all() == {}
    for n in range(30):
        await store.put(f"ws-{n:02d}", WorkspaceSettings(results_retention_days=n + 1))
    listed = await store.all()
    assert len(listed) == 30 and listed["ws-07"].results_retention_days == 8


async def test_rows_of_other_versions_are_read_leniently(store: DynamoWorkspaceSettings, client: Any) -> None:
    """A field missing (an older row) takes its default; an unknown one (a newer version's) is ignored."""
    client.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "SETTINGS"},
            "SK": {"S": "WS#old"},
            "results_retention_days": {"N": "45"},
            "some_future_field": {"S": "x"},
        },
    )
    assert await store.get("old") == WorkspaceSettings(results_retention_days=45)
