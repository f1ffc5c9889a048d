"""The workspace's activity on DynamoDB: what terminal finishes counted, per UTC minute, for `GET /metrics`.

    activity  PK  WS#{workspace}#ACTIVITY   SK  MIN#{yyyy-mm-ddTHH:MM}   processed, found, failed, expires_at

Every finish of a minute ADDs to that minute's row in the transaction of its item and job counters
(`activity_action`), so a duplicate delivery never counts twice; the row expires two days after its last
write by the table's TTL. Reading an hour is one Query of at most 61 rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, activity_key, activity_pk, activity_sk
from leadenrich.jobs.ports import Activity, CounterDelta
from leadenrich.jobs.rows import ACTIVITY_FIELDS, ACTIVITY_KEPT, activity_of

_KEPT_SECONDS = int(ACTIVITY_KEPT.total_seconds())


class DynamoActivity(DynamoTable):
    """The activity rows of the job store's table (a base of `DynamoJobStore`)."""

    def activity_action(self, workspace_id: str, delta: CounterDelta, now: datetime) -> dict[str, Any]:
        """The transaction action that ADDs a finish to its minute's row (shared by the minute's finishes)."""
        adds = ", ".join(f"#{name} :{name}" for name in ACTIVITY_FIELDS)
        values: dict[str, Any] = {f":{name}": getattr(delta, name) for name in ACTIVITY_FIELDS}
        values[":expires"] = int(now.timestamp()) + _KEPT_SECONDS
        update = f"SET #{TTL_ATTRIBUTE} = :expires ADD {adds}"
        return {"Update": self.update_request(activity_key(workspace_id, now), update=update, values=values)}

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        """One Query over the window's minute rows (at most 61 for an hour)."""
        totals = dict.fromkeys(ACTIVITY_FIELDS, 0)
        bounds = {":pk": activity_pk(workspace_id), ":first": activity_sk(since), ":last": activity_sk(now)}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
            "ExpressionAttributeValues": to_attribute_values(bounds),
        }
        while True:
            response = await self._call("query", **request)
            for row in response.get("Items", []):
                counts = from_attribute_values(row)
                for name in ACTIVITY_FIELDS:
                    totals[name] += int(counts.get(name, 0))
            if "LastEvaluatedKey" not in response:
                return activity_of(totals)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


__all__ = ["DynamoActivity"]
