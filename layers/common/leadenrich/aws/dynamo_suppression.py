"""`SuppressionList` on the shared DynamoDB table, beside the rate limiter, the quota and the spend ledger.

    entry    PK  SUPPRESS#{workspace}    SK  {identity key}        kind, label, reason, created_at
             GSI1PK SUPPRESS#{workspace} GSI1SK {created_at}#{identity key}   (the listing, newest first)

The service-wide list is the workspace `*` (`privacy.ports.SERVICE_WIDE`): `SUPPRESS#*`. An identity key is
a keyed hash for an address or a person (`e:...`, `p:...`) and `d:` + the domain for a domain; the label is
masked. No address or name is stored in clear.

Which keys are suppressed (asked before each paid call about a person or an address) is one strongly
consistent BatchGetItem of the workspace's rows and the service-wide ones (100 keys a request, what
DynamoDB left unprocessed asked again): a 451 written by one processor is seen by the next read of any
other. Adding is a conditional PutItem per entry (`attribute_not_exists`): an entry already there keeps its
first reason and time, and the count of new ones is exact. The listing reads GSI1, which is eventually
consistent: an entry just added may take a moment to be listed (it is suppressed at once all the same).
Rows have no TTL: a suppression lasts until its workspace removes it; the service-wide list is never shrunk
by a workspace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import RETRIES, DynamoTable, backoff
from leadenrich.aws.dynamo_schema import GSI1, row_key
from leadenrich.jobs.encoding import check_limit, decode_cursor, parse_ts, ts
from leadenrich.jobs.models import Page
from leadenrich.privacy.identity import Identity, Kind
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason

_BATCH_GET_MAX = 100
_CONCURRENT_PUTS = 25
_KEY_FIELDS = ("PK", "SK", "GSI1PK", "GSI1SK")


def suppression_pk(workspace_id: str) -> str:
    return f"SUPPRESS#{workspace_id}"


def _row(entry: Suppression) -> dict[str, Any]:
    pk, created_at = suppression_pk(entry.workspace_id), ts(entry.created_at)
    return to_attribute_values(
        {
            "PK": pk,
            "SK": entry.identity.key,
            "GSI1PK": pk,
            "GSI1SK": f"{created_at}#{entry.identity.key}",
            "kind": entry.identity.kind.value,
            "label": entry.identity.label,
            "reason": entry.reason.value,
            "created_at": created_at,
        }
    )


def _entry(workspace_id: str, row: dict[str, Any]) -> Suppression:
    plain = from_attribute_values(row)
    created_at = parse_ts(plain["created_at"])
    assert created_at is not None  # every row is written with its time
    identity = Identity(Kind(plain["kind"]), str(plain["SK"]), str(plain["label"]))
    return Suppression(workspace_id, identity, SuppressionReason(plain["reason"]), created_at)


class DynamoSuppressionList(DynamoTable):
    async def add(self, entries: Sequence[Suppression]) -> int:
        added = 0
        for start in range(0, len(entries), _CONCURRENT_PUTS):
            written = await asyncio.gather(
                *(
                    self.conditional_write(
                        "put_item",
                        TableName=self._table,
                        Item=_row(entry),
                        ConditionExpression="attribute_not_exists(PK)",
                    )
                    for entry in entries[start : start + _CONCURRENT_PUTS]
                )
            )
            added += sum(1 for response in written if response is not None)
        return added

    async def remove(self, workspace_id: str, key: str) -> bool:
        deleted = await self.conditional_write(
            "delete_item",
            TableName=self._table,
            Key=row_key(suppression_pk(workspace_id), key),
            ConditionExpression="attribute_exists(PK)",
        )
        return deleted is not None

    async def list(
        self, workspace_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Suppression]:
        check_limit(limit)
        pk = suppression_pk(workspace_id)
        start_key = None
        if cursor is not None:
            start_key = to_attribute_values(decode_cursor(cursor, {"PK": pk, "GSI1PK": pk}, ("SK", "GSI1SK")))
        request = self.query_request(
            "#GSI1PK = :pk", {":pk": pk}, None, IndexName=GSI1, ScanIndexForward=False
        )
        rows, next_cursor = await self.query_page(
            request, limit=limit, start_key=start_key, key_fields=_KEY_FIELDS
        )
        return Page(items=[_entry(workspace_id, row) for row in rows], cursor=next_cursor)

    async def suppressed(self, workspace_id: str, keys: Sequence[str]) -> set[str]:
        partitions = list(dict.fromkeys((suppression_pk(workspace_id), suppression_pk(SERVICE_WIDE))))
        wanted = [row_key(pk, key) for key in dict.fromkeys(keys) for pk in partitions]
        found: set[str] = set()
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            found |= await self._present(wanted[start : start + _BATCH_GET_MAX])
        return found

    async def _present(self, keys: Sequence[dict[str, Any]]) -> set[str]:
        """The sort keys of the rows present among `keys`: one BatchGetItem of the keys only, strongly
        consistent, asking again for what DynamoDB left unprocessed (throttling)."""
        found: set[str] = set()
        pending: dict[str, Any] = {
            self._table: {"Keys": list(keys), "ConsistentRead": True, "ProjectionExpression": "SK"}
        }
        for attempt in range(RETRIES + 1):
            if attempt:
                await asyncio.sleep(backoff(attempt - 1))
            response = await self._call("batch_get_item", RequestItems=pending)
            found.update(str(row["SK"]["S"]) for row in response.get("Responses", {}).get(self._table, []))
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                return found
        raise RuntimeError(f"suppression list: rows not read after {RETRIES} retries (throttled)")


__all__ = ["DynamoSuppressionList", "suppression_pk"]
