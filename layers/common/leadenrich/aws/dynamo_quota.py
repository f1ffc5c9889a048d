"""`LeadQuota` over the shared DynamoDB table: one counter row per workspace and UTC day.

    quota  PK  WS#{workspace}#QUOTA   SK  DAY#{yyyy-mm-dd}   leads (number), expires_at (TTL, 2 days on)

A reservation is one UpdateItem: `ADD leads :n` with the condition `attribute_not_exists(leads) OR leads
<= :limit - :n`, so two API calls at once can never both pass the limit. A release is an unconditional
`ADD leads -n`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.dynamo_store import TTL_ATTRIBUTE, _avs, _error_code, _plain
from leadenrich.aws.threaded import ThreadedClient

_KEEP_DAYS = 2


def _key(workspace_id: str, day: date) -> dict[str, Any]:
    return _avs({"PK": f"WS#{workspace_id}#QUOTA", "SK": f"DAY#{day.isoformat()}"})


def _expires(day: date) -> int:
    return int(
        datetime.combine(day + timedelta(days=_KEEP_DAYS), datetime.min.time(), tzinfo=UTC).timestamp()
    )


class DynamoLeadQuota(ThreadedClient):
    def __init__(self, table_name: str, client: Any, *, serialize_calls: bool = False) -> None:
        super().__init__(client, serialize_calls=serialize_calls)
        self._table = table_name

    async def reserve(self, workspace_id: str, day: date, count: int, limit: int) -> bool:
        if count <= 0:
            return True
        if count > limit:
            return False
        try:
            await self._call(
                "update_item",
                TableName=self._table,
                Key=_key(workspace_id, day),
                UpdateExpression="ADD leads :n SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(leads) OR leads <= :room",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues=_avs({":n": count, ":room": limit - count, ":ttl": _expires(day)}),
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def release(self, workspace_id: str, day: date, count: int) -> None:
        if count <= 0:
            return
        await self._call(
            "update_item",
            TableName=self._table,
            Key=_key(workspace_id, day),
            UpdateExpression="ADD leads :n",
            ExpressionAttributeValues=_avs({":n": -count}),
        )

    async def used(self, workspace_id: str, day: date) -> int:
        answer = await self._call(
            "get_item", TableName=self._table, Key=_key(workspace_id, day), ConsistentRead=True
        )
        row = answer.get("Item")
        return int(_plain(row).get("leads", 0)) if row else 0
