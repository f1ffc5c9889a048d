"""`WorkspaceSettingsStore` on the shared DynamoDB table, beside the quota, the spend ledger and the limiter.

    settings  PK  SETTINGS   SK  WS#{workspace}   one attribute per field (`privacy.settings.settings_row`),
                                                  updated_at (ISO 8601)

One row per workspace, all in one partition, so the retention purge reads every workspace's settings with
one Query (`all`, `jobs.retention`), however many workspaces the table serves: a few hundred rows of a few
hundred bytes, read once an hour, and written when someone changes a setting. A workspace without a row has
the defaults. No TTL: settings last until changed. The rows hold no personal data (periods, flags, country
codes), so an erasure has nothing to remove here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import row_key
from leadenrich.jobs.encoding import ts
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.privacy.settings import settings_from_row, settings_row

SETTINGS_PK = "SETTINGS"
_WS = "WS#"


def settings_key(workspace_id: str) -> dict[str, Any]:
    return row_key(SETTINGS_PK, f"{_WS}{workspace_id}")


class DynamoWorkspaceSettings(DynamoTable):
    """The DynamoDB adapter of `WorkspaceSettingsStore` and `WorkspaceSettingsDirectory`."""

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        row = await self.get_row(settings_key(workspace_id))
        return settings_from_row(from_attribute_values(row)) if row else WorkspaceSettings()

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None:
        """The whole row, replaced (`privacy.settings.change_settings` merges a change first)."""
        values = settings_row(settings) | {"entity": "settings", "updated_at": ts(datetime.now(UTC))}
        item = settings_key(workspace_id) | to_attribute_values(values)
        await self._call("put_item", TableName=self._table, Item=item)

    async def all(self) -> dict[str, WorkspaceSettings]:
        """One Query of the settings partition, every page."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": SETTINGS_PK}},
            "ConsistentRead": True,
        }
        found: dict[str, WorkspaceSettings] = {}
        while True:
            response = await self._call("query", **request)
            for row in response.get("Items", []):
                plain = from_attribute_values(row)
                found[str(plain["SK"]).removeprefix(_WS)] = settings_from_row(plain)
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


__all__ = ["SETTINGS_PK", "DynamoWorkspaceSettings", "settings_key"]
