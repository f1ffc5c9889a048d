"""`LeadQuota` over the shared DynamoDB table: one counter row per workspace and UTC day.

    quota  PK  WS#{workspace}#QUOTA   SK  DAY#{yyyy-mm-dd}   leads (number), expires_at (TTL, 2 days on)

A reservation is one UpdateItem: `ADD leads :n` with the condition `attribute_not_exists(leads) OR leads
<= :limit - :n`, so two API calls at once can never both pass the limit. A release is an unconditional
`ADD leads -n`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, row_key

_KEEP_DAYS = 2


def _key(workspace_id: str, day: date) -> dict[str, Any]:
    return row_key(f"WS#{workspace_id}#QUOTA", f"DAY#{day.isoformat()}")


def _expires(day: date) -> int:
    return int(
        datetime.combine(day + timedelta(days=_KEEP_DAYS), datetime.min.time(), tzinfo=UTC).timestamp()
    )


class DynamoLeadQuota(DynamoTable):
    async def reserve(self, workspace_id: str, day: date, count: int, limit: int) -> bool:
        if count <= 0:
            return True
        if count > limit:
            return False
        reserved = await self.conditional_write(
            "update_item",
            TableName=self._table,
            Key=_key(workspace_id, day),
            UpdateExpression="ADD leads :n SET #ttl = :ttl",
            ConditionExpression="attribute_not_exists(leads) OR leads <= :room",
            ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues=to_attribute_values(
                {":n": count, ":room": limit - count, ":ttl": _expires(day)}
            ),
        )
        return reserved is not None

    async def release(self, workspace_id: str, day: date, count: int) -> None:
        if count <= 0:
            return
        await self._call(
            "update_item",
            TableName=self._table,
            Key=_key(workspace_id, day),
            UpdateExpression="ADD leads :n",
            ExpressionAttributeValues=to_attribute_values({":n": -count}),
        )

    async def used(self, workspace_id: str, day: date) -> int:
        row = await self.get_row(_key(workspace_id, day))
        return int(from_attribute_values(row).get("leads", 0)) if row else 0
