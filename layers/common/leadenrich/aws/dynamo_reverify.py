"""The re-verification sweep's place in the DynamoDB table (`leadenrich.reverify.ports.ReverifyPlace`;
docs/reverification.md): the workspace's job item results (JOB_STORE=dynamodb), by `reverify.rules`.

How stale addresses are found without a Scan: a bounded per-workspace listing, the bounce marks' one
(`aws.dynamo_bounces`): the workspace's jobs from GSI1 (keys only), then each job partition's items, with a
filter keeping only results that hold a `verified_at` time and a projection of the result alone. Only the
workspace's partitions are read, once a day (the sweep makes one job a day): a Query is billed for what it
reads before the filter, half a read unit per 4 KB, so a workspace keeping 100,000 items of 2 KB costs about
25,000 read units a day (about $0.003 on demand at $0.125 per million), whatever the table holds for
others. Writing a verdict is the bounce marks' compare-and-set on the result text (a processor that
rewrote the item meanwhile wins; it is read again, up to three times).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_bounces import DynamoBouncedAddresses
from leadenrich.aws.dynamo_job_rows import item_from_attributes
from leadenrich.aws.dynamo_schema import ITEM_SK_PREFIX
from leadenrich.jobs.encoding import ts
from leadenrich.reverify import rules
from leadenrich.reverify.ports import Rewrite, StaleAddress

PLACE = "job_items"
_JOBS_AT_ONCE = 4
_RETRIES = 3
_VERIFIED = '"verified_at": "'  # how json.dumps writes a verified address's time (never `null`)


class DynamoReverifyPlace(DynamoBouncedAddresses):
    """See the module docstring."""

    name = PLACE

    async def _verified_results(self, partition: dict[str, Any]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#PK = :pk AND begins_with(#SK, :item)",
            "FilterExpression": "contains(#result, :verified)",
            "ProjectionExpression": "#result",
            "ExpressionAttributeNames": {"#PK": "PK", "#SK": "SK", "#result": "result"},
            "ExpressionAttributeValues": {
                ":pk": partition,
                ":item": {"S": ITEM_SK_PREFIX},
                ":verified": {"S": _VERIFIED},
            },
        }
        results: list[dict[str, Any]] = []
        while True:
            page = await self._call("query", **request)
            for row in page.get("Items", []):
                try:
                    results.append(json.loads(row["result"]["S"]))
                except (KeyError, ValueError):
                    continue
            if not page.get("LastEvaluatedKey"):
                return results
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def stale(self, workspace_id: str, before: datetime, limit: int) -> list[StaleAddress]:
        if limit <= 0:
            return []
        partitions = [pk async for pk in self._job_partitions(workspace_id)]
        oldest: dict[str, datetime] = {}
        uses: dict[str, int] = {}
        for start in range(0, len(partitions), _JOBS_AT_ONCE):
            batch = partitions[start : start + _JOBS_AT_ONCE]
            for results in await asyncio.gather(*(self._verified_results(pk) for pk in batch)):
                for result in results:
                    for email, at in dict(rules.stale(result, before)).items():  # an item counts once
                        oldest[email] = min(at, oldest.get(email, at))
                        uses[email] = uses.get(email, 0) + 1
        order = sorted(oldest, key=lambda e: (oldest[e], -uses[e], e))[:limit]
        return [StaleAddress(e, oldest[e], uses[e]) for e in order]

    async def apply(
        self, workspace_id: str, email: str, verdict: rules.Verdict, now: datetime
    ) -> list[Rewrite]:
        email = email.lower()
        rewrites: list[Rewrite] = []
        partitions = [pk async for pk in self._job_partitions(workspace_id)]
        for start in range(0, len(partitions), _JOBS_AT_ONCE):
            batch = partitions[start : start + _JOBS_AT_ONCE]
            for rows in await asyncio.gather(*(self._items_holding(pk, [email]) for pk in batch)):
                for row in rows:
                    rewrites += await self._rewrite(row, email, verdict, now)
        return rewrites

    async def _rewrite(
        self, row: dict[str, Any], email: str, verdict: rules.Verdict, now: datetime
    ) -> list[Rewrite]:
        key = {"PK": row["PK"], "SK": row["SK"]}
        current: dict[str, Any] | None = row
        for _ in range(_RETRIES):
            if current is None or "result" not in current:
                return []
            item = item_from_attributes(current)
            written = rules.rewritten(item.result, email, verdict)
            if written is None:
                return []
            result, before = written
            request = self.update_request(
                key,
                update="SET #result = :result, #updated_at = :now",
                condition="#result = :stored",
                values={":result": json.dumps(result), ":now": ts(now), ":stored": current["result"]["S"]},
            )
            if await self.update_row(request) is None:
                current = await self.get_row(key)  # changed meanwhile: rewrite what is there now
                continue
            return [
                Rewrite(PLACE, email, b, b.graded() != verdict.graded(), item.job_id, item.lead_id)
                for b in before
            ]
        raise RuntimeError("reverify: an item kept changing under the rewrite; the next sweep writes it")


__all__ = ["DynamoReverifyPlace"]
