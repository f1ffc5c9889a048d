"""`SpendLedger` on the shared DynamoDB table, beside the rate limiter and the daily quota that live there.

    spend    PK  WS#{workspace}#SPEND   SK  job:{job_id}        credits, cost_usd (numbers)
                                        SK  month:{yyyy-mm}     credits, cost_usd
    budget   PK  WS#{workspace}#SPEND   SK  BUDGET              monthly_credits (number)

An add is one UpdateItem per scope, `ADD credits :c, cost_usd :d`: DynamoDB applies each atomically, so
processors adding at once never lose one another's spend, and no read or condition is needed. Not one
transaction for the job's row and the month's: every item of a workspace adds to the same month row, and
concurrent transactions on one row are cancelled for conflicts (retried, but slower under load) where
plain ADDs are serialised by DynamoDB. A process that dies between the two writes leaves one call counted
in its job and not in its month, which the monthly budget can bear. Amounts are Decimals made from the
floats' shortest repr (`dynamo_codec`), so sums are exact.

A read is one strongly consistent BatchGetItem for the scopes asked. The rows have no TTL: a job row's
spend lasts as long as the job row (jobs never expire), a month row is one per workspace a month.
One partition per workspace: its writes are bounded by the providers' rate limits (tens a second), far
below a partition's 1,000.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import RETRIES, DynamoTable, backoff
from leadenrich.aws.dynamo_schema import row_key
from leadenrich.jobs.budget import Spend

BUDGET_SK = "BUDGET"
_BATCH_GET_MAX = 100


def spend_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}#SPEND"


class DynamoSpendLedger(DynamoTable):
    async def add(self, workspace_id: str, scopes: Sequence[str], spend: Spend) -> None:
        if spend.credits == 0 and spend.cost_usd == 0:
            return
        values = to_attribute_values({":c": spend.credits, ":d": spend.cost_usd})
        await asyncio.gather(
            *(
                self._call(
                    "update_item",
                    TableName=self._table,
                    Key=row_key(spend_pk(workspace_id), scope),
                    UpdateExpression="ADD credits :c, cost_usd :d",
                    ExpressionAttributeValues=values,
                )
                for scope in dict.fromkeys(scopes)
            )
        )

    async def spent(self, workspace_id: str, scopes: Sequence[str]) -> dict[str, Spend]:
        wanted = list(dict.fromkeys(scopes))
        found: dict[str, Spend] = {}
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            keys = [
                row_key(spend_pk(workspace_id), scope) for scope in wanted[start : start + _BATCH_GET_MAX]
            ]
            for row in await self._batch_get(keys):
                plain = from_attribute_values(row)
                found[str(plain["SK"])] = Spend(
                    credits=float(plain.get("credits", Decimal(0))),
                    cost_usd=float(plain.get("cost_usd", Decimal(0))),
                )
        return {scope: found.get(scope, Spend()) for scope in wanted}

    async def monthly_credits(self, workspace_id: str) -> int | None:
        row = await self.get_row(row_key(spend_pk(workspace_id), BUDGET_SK))
        if row is None:
            return None
        return int(from_attribute_values(row)["monthly_credits"])

    async def set_monthly_credits(self, workspace_id: str, credits: int | None) -> None:
        key = row_key(spend_pk(workspace_id), BUDGET_SK)
        if credits is None:
            await self._call("delete_item", TableName=self._table, Key=key)
            return
        item = {**key, **to_attribute_values({"monthly_credits": credits})}
        await self._call("put_item", TableName=self._table, Item=item)

    async def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """BatchGetItem, strongly consistent, asking again for the keys DynamoDB left unprocessed."""
        rows: list[dict[str, Any]] = []
        pending: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(RETRIES + 1):
            if attempt:
                await asyncio.sleep(backoff(attempt - 1))
            response = await self._call("batch_get_item", RequestItems=pending)
            rows += response.get("Responses", {}).get(self._table, [])
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                return rows
        raise RuntimeError(f"spend ledger: rows not read after {RETRIES} retries (throttled)")


__all__ = ["BUDGET_SK", "DynamoSpendLedger", "spend_pk"]
