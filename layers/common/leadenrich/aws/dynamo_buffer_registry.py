"""The lead buffer's served registry on the service's DynamoDB table (`aws.dynamo_buffer`; docs/buffer.md,
"Personal data"): one row per lead a namespace served, beside the namespace's lead rows.

    PK  WS#{workspace}#BUF#{namespace}   SK  SERVED#{lead_key}   served_at (the first serve), expires_at

The row holds the lead's identity only (`buffer.models.lead_key`: a keyed hash, or a company's domain),
never a name or an address, and no GSI1 keys (it is never listed), so it may outlive the lead row: the
lead's TTL (its workspace's periods) or an erasure removes the lead, the registry keeps the namespace from
serving it again for `buffer.retention.REGISTRY_DAYS`, then its own TTL removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, row_key
from leadenrich.buffer.models import LeadRecord
from leadenrich.buffer.retention import registry_expiry
from leadenrich.jobs.encoding import ts

SERVED_SK = "SERVED#"
_BATCH_GET = 100  # keys per BatchGetItem


def buffer_pk(workspace_id: str, namespace: str) -> str:
    """The partition of a namespace's leads, runs, cursor and registry."""
    return f"WS#{workspace_id}#BUF#{namespace}"


class DynamoServedRegistry(DynamoTable):
    async def served(self, workspace_id: str, namespace: str, keys: Sequence[str]) -> set[str]:
        """The lead keys among `keys` the namespace served: BatchGetItems of the keys only, strongly
        consistent, asking again for what DynamoDB left unprocessed."""
        pk = buffer_pk(workspace_id, namespace)
        wanted = [row_key(pk, SERVED_SK + key) for key in dict.fromkeys(keys)]
        found: set[str] = set()
        for start in range(0, len(wanted), _BATCH_GET):
            pending: dict[str, Any] = {
                self._table: {
                    "Keys": wanted[start : start + _BATCH_GET],
                    "ConsistentRead": True,
                    "ProjectionExpression": "SK",
                }
            }
            while pending:
                response = await self._call("batch_get_item", RequestItems=pending)
                rows = response.get("Responses", {}).get(self._table, [])
                found.update(str(row["SK"]["S"]).removeprefix(SERVED_SK) for row in rows)
                pending = response.get("UnprocessedKeys") or {}
        return found

    def entry(self, record: LeadRecord, served_at: datetime) -> dict[str, Any]:
        """The lead's entry (its first served time kept; its TTL counted from it), as an Update action of the
        serve's transaction."""
        key = row_key(buffer_pk(record.workspace_id, record.namespace), SERVED_SK + record.lead_key)
        return self.update_request(
            key,
            update=f"SET served_at = if_not_exists(served_at, :at), #entity = :entity, #{TTL_ATTRIBUTE}"
            " = :expires",
            values={
                ":at": ts(served_at),
                ":entity": "buffer_served",
                ":expires": registry_expiry(served_at),
            },
        )


__all__ = ["SERVED_SK", "DynamoServedRegistry", "buffer_pk"]
