"""A hard bounce's marks in the DynamoDB table (`leadenrich.bounces.ports.BouncedAddresses`; docs/bounces.md):
the workspace's job items whose result holds a bounced address, by the rules of `bounces.rules`, when the
table holds the jobs (JOB_STORE=dynamodb).

How they are found: no index leads from an address to the items that hold it (it sits inside an item's
result), so the workspace's jobs are listed from GSI1 (`WS#{workspace}#JOBS`, keys only) and each job's
partition is queried for its items with a filter, `contains(result, address)`, a few jobs at a time. Only
the workspace's own partitions are read, never another's. What it costs: a Query is billed for what it reads
before the filter, half a read unit per 4 KB (eventually consistent), so one bounce request reads every item
the workspace still keeps (its `results_retention_days`, 90 by default), once for all the addresses it
carries: 100,000 items of 2 KB are about 25,000 read units, under a cent on demand, and a few seconds.

Writes: an item's result is replaced only if it is still the text that was read (a processor that finished
it again, or a review decided meanwhile, wins; the item is read again and marked, up to three times). The
review queue's index keys are left as they are: marking changes no review state.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_job_rows import item_from_attributes
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import GSI1, ITEM_SK_PREFIX, jobs_gsi_pk
from leadenrich.bounces import rules
from leadenrich.bounces.ports import Holding
from leadenrich.jobs.encoding import ts

PLACE = "job_items"
_JOBS_AT_ONCE = 4
_ADDRESSES_PER_QUERY = 50  # `contains` clauses in one filter (an expression holds at most 4 KB)
_RETRIES = 3


class DynamoBouncedAddresses(DynamoTable):
    """See the module docstring."""

    @property
    def places(self) -> tuple[str, ...]:
        return (PLACE,)

    async def _job_partitions(self, workspace_id: str) -> AsyncIterator[dict[str, Any]]:
        """The key of each of the workspace's job partitions, from GSI1 (keys only)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI1,
            "KeyConditionExpression": "#GSI1PK = :pk",
            "ProjectionExpression": "#PK",
            "ExpressionAttributeNames": {"#GSI1PK": "GSI1PK", "#PK": "PK"},
            "ExpressionAttributeValues": {":pk": {"S": jobs_gsi_pk(workspace_id)}},
        }
        while True:
            page = await self._call("query", **request)
            for row in page.get("Items", []):
                yield row["PK"]
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _items_holding(self, partition: dict[str, Any], emails: Sequence[str]) -> list[dict[str, Any]]:
        """The partition's items whose result text contains one of `emails`, every page."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(emails), _ADDRESSES_PER_QUERY):
            chunk = emails[start : start + _ADDRESSES_PER_QUERY]
            values: dict[str, Any] = {":pk": partition, ":item": {"S": ITEM_SK_PREFIX}}
            values |= {f":e{n}": {"S": email} for n, email in enumerate(chunk)}
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#PK = :pk AND begins_with(#SK, :item)",
                "FilterExpression": " OR ".join(f"contains(#result, :e{n})" for n in range(len(chunk))),
                "ExpressionAttributeNames": {"#PK": "PK", "#SK": "SK", "#result": "result"},
                "ExpressionAttributeValues": values,
            }
            while True:
                page = await self._call("query", **request)
                found += page.get("Items", [])
                if not page.get("LastEvaluatedKey"):
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return list({(row["PK"]["S"], row["SK"]["S"]): row for row in found}.values())

    async def mark_undeliverable(
        self, workspace_id: str, emails: Sequence[str], now: datetime
    ) -> list[Holding]:
        if not emails:
            return []
        emails = list(dict.fromkeys(email.lower() for email in emails))
        wanted = frozenset(emails)
        partitions = [pk async for pk in self._job_partitions(workspace_id)]
        holdings: list[Holding] = []
        for start in range(0, len(partitions), _JOBS_AT_ONCE):
            batch = partitions[start : start + _JOBS_AT_ONCE]
            for rows in await asyncio.gather(*(self._items_holding(pk, emails) for pk in batch)):
                for row in rows:
                    holdings += await self._mark(row, wanted, now)
        return holdings

    async def _mark(self, row: dict[str, Any], emails: frozenset[str], now: datetime) -> list[Holding]:
        """The item's addresses among `emails`, marked (a compare-and-set on the result text)."""
        key = {"PK": row["PK"], "SK": row["SK"]}
        current: dict[str, Any] | None = row
        for _ in range(_RETRIES):
            if current is None or "result" not in current:
                return []
            item = item_from_attributes(current)
            changed = rules.marked(item.result, emails)
            entries = rules.held(item.result, emails)
            if changed is not None:
                request = self.update_request(
                    key,
                    update="SET #result = :result, #updated_at = :now",
                    condition="#result = :stored",
                    values={
                        ":result": json.dumps(changed),
                        ":now": ts(now),
                        ":stored": current["result"]["S"],
                    },
                )
                if await self.update_row(request) is None:
                    current = await self.get_row(key)  # changed meanwhile: mark what is there now
                    continue
            return [
                Holding(
                    PLACE,
                    str(rules.address_of(entry)),
                    changed=changed is not None and not rules.is_marked(entry),
                    guessed=rules.guessed(entry),
                    lead=item.lead,
                    lead_id=item.lead_id,
                )
                for entry in entries
            ]
        raise RuntimeError("bounce: an item kept changing under the mark; the provider's retry will mark it")


__all__ = ["DynamoBouncedAddresses"]
