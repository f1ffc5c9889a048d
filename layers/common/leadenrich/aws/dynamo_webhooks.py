"""Webhook rows in the service's DynamoDB table (used whatever JOB_STORE says, like the cache and limiter).

    inbound event   PK  HOOK#{provider}#EVT#{event_id}     SK  EVENT       (conditional put; TTL 7 days)
    attempt         PK  WS#{workspace}#HOOKS#{job_id}       SK  ATTEMPT#{at}#{n}   (kept with TTL 30 days)
    outbox entry    PK  HOOK#OUTBOX                          SK  {due at}#{event_id}#{n}
    owed once       PK  HOOK#ONCE#{event_id}                 SK  ONCE        (conditional put; TTL 30 days)

Attempts are rows of their own next to the job (not attributes of the job row), so recording one never
contends with the job's counter transactions, and both job stores share the same record. An event owed
once (`schedule_once`: `job.cancelled`, `job.paused`) writes its marker and its outbox entry in one
transaction, so a repeat of the same event id records neither.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, row_key
from leadenrich.webhooks.outbound import Attempt, Delivery

EVENT_TTL_SECONDS = 7 * 24 * 3600
ATTEMPT_TTL_SECONDS = 30 * 24 * 3600
_OUTBOX = "HOOK#OUTBOX"


def _event_key(provider: str, event_id: str) -> dict[str, Any]:
    return row_key(f"HOOK#{provider}#EVT#{event_id}", "EVENT")


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoWebhookLog(DynamoTable):
    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        serialize_calls: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table_name, client, serialize_calls=serialize_calls)
        self._now = now

    # --- inbound -------------------------------------------------------------------------------------------

    async def record_event(self, provider: str, event_id: str, summary: dict[str, str]) -> bool:
        """Record a provider event once: False when (provider, event id) was recorded already (a replay)."""
        item = {
            **_event_key(provider, event_id),
            "received_at": {"N": str(int(self._now()))},
            "summary": {"S": json.dumps(summary)},
            TTL_ATTRIBUTE: {"N": str(math.ceil(self._now() + EVENT_TTL_SECONDS))},
        }
        recorded = await self.conditional_write(
            "put_item", TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)"
        )
        return recorded is not None

    async def forget_event(self, provider: str, event_id: str) -> None:
        """Undo `record_event` when routing failed, so the provider's retry is not taken for a replay."""
        await self._call(
            "delete_item",
            TableName=self._table,
            Key=_event_key(provider, event_id),
        )

    # --- outbound ------------------------------------------------------------------------------------------

    async def record_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        record = attempt.as_record()
        item: dict[str, Any] = {
            "PK": {"S": f"WS#{delivery.workspace_id}#HOOKS#{delivery.job_id}"},
            "SK": {"S": f"ATTEMPT#{_ts(attempt.at)}#{attempt.number:02d}"},
            "event_id": {"S": delivery.event_id},
            "attempt": {"N": str(attempt.number)},
            "at": {"S": record["at"]},
            "delivered": {"BOOL": attempt.delivered},
            TTL_ATTRIBUTE: {"N": str(math.ceil(self._now() + ATTEMPT_TTL_SECONDS))},
        }
        if attempt.status_code is not None:
            item["status_code"] = {"N": str(attempt.status_code)}
        if attempt.error is not None:
            item["error"] = {"S": attempt.error[:256]}
        await self._call("put_item", TableName=self._table, Item=item)

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]:
        """The job's attempts, oldest first."""
        response = await self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
            ExpressionAttributeValues={
                ":pk": {"S": f"WS#{workspace_id}#HOOKS#{job_id}"},
                ":sk": {"S": "ATTEMPT#"},
            },
        )
        return [
            {
                "attempt": int(row["attempt"]["N"]),
                "at": row["at"]["S"],
                "status_code": int(row["status_code"]["N"]) if "status_code" in row else None,
                "error": row["error"]["S"] if "error" in row else None,
                "delivered": row["delivered"]["BOOL"],
                "event_id": row["event_id"]["S"],
            }
            for row in response.get("Items", [])
        ]

    async def schedule(self, delivery: Delivery, attempt: int, at: datetime) -> None:
        await self._call("put_item", TableName=self._table, Item=_outbox_row(delivery, attempt, at))

    async def schedule_once(self, delivery: Delivery, at: datetime) -> bool:
        marker = {
            "PK": {"S": f"HOOK#ONCE#{delivery.event_id}"},
            "SK": {"S": "ONCE"},
            TTL_ATTRIBUTE: {"N": str(math.ceil(self._now() + ATTEMPT_TTL_SECONDS))},
        }
        return await self.transact(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": marker,
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": {"TableName": self._table, "Item": _outbox_row(delivery, 1, at)}},
            ]
        )

    async def due(self, now: datetime, limit: int) -> list[tuple[str, Delivery, int]]:
        response = await self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND SK <= :now",
            ExpressionAttributeValues={":pk": {"S": _OUTBOX}, ":now": {"S": _ts(now) + "~"}},
            Limit=limit,
        )
        return [
            (row["SK"]["S"], Delivery(**json.loads(row["delivery"]["S"])), int(row["attempt"]["N"]))
            for row in response.get("Items", [])
        ]

    async def take(self, key: str) -> bool:
        taken = await self.conditional_write(
            "delete_item",
            TableName=self._table,
            Key=row_key(_OUTBOX, key),
            ConditionExpression="attribute_exists(PK)",
        )
        return taken is not None


def _outbox_row(delivery: Delivery, attempt: int, at: datetime) -> dict[str, Any]:
    return {
        "PK": {"S": _OUTBOX},
        "SK": {"S": f"{_ts(at)}#{delivery.event_id}#{attempt:02d}"},
        "attempt": {"N": str(attempt)},
        "delivery": {
            "S": json.dumps(
                {
                    "workspace_id": delivery.workspace_id,
                    "job_id": delivery.job_id,
                    "url": delivery.url,
                    "event_id": delivery.event_id,
                    "body": delivery.body,
                }
            )
        },
    }
