"""The lead buffer's part of the DynamoDB eraser (`aws.dynamo_erasure`, which mixes it in so the buffer's
rows are read by the same Scan as the items and the cache; the rules are `buffer.erasure`).

Rows: the workspace's lead rows (`WS#{ws}#BUF#{namespace}` / `LEAD#...`) and cursor rows (`CURSOR`). A lead
of the subject's is deleted, and the run row that pointed to it (if it still does); any other lead's data,
result and error are rewritten only if the row was not changed since it was read (`updated_at`, which every
claim and serve moves), else read and scrubbed again. Run and registry rows hold keyed identities only and
are left as they are.
"""

from __future__ import annotations

import json
from typing import Any

from leadenrich.aws.dynamo_buffer_registry import buffer_pk
from leadenrich.aws.dynamo_codec import from_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import row_key
from leadenrich.buffer.erasure import BufferRow, cursor_named, lead_links, scrub_lead
from leadenrich.privacy.erasure_rules import Subject

LEAD_SK = "LEAD#"
CURSOR_SK = "CURSOR"
_RETRIES = 3


def buffer_prefix(workspace_id: str) -> str:
    """Every namespace's partition of the workspace's buffer."""
    return buffer_pk(workspace_id, "")


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _buffer_row(plain: dict[str, Any]) -> BufferRow:
    lead, data, result = _json(plain.get("lead")), _json(plain.get("data")), _json(plain.get("result"))
    error = plain.get("enrichment_error")
    return BufferRow(
        lead=lead if isinstance(lead, dict) else {},
        data=data if isinstance(data, dict) else None,
        result=result if isinstance(result, dict) else None,
        error=error if isinstance(error, str) else None,
    )


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class DynamoBufferEraser(DynamoTable):
    """The buffer's rows of a Scan (module docstring): what they link to the subject, and their erasure."""

    @staticmethod
    def buffer_kind(workspace_id: str, row: dict[str, Any]) -> str | None:
        """ "lead" or "cursor" for the workspace's buffer rows an erasure reads; None for any other row."""
        if not row["PK"]["S"].startswith(buffer_prefix(workspace_id)):
            return None
        sk = row["SK"]["S"]
        return "lead" if sk.startswith(LEAD_SK) else "cursor" if sk == CURSOR_SK else None

    @staticmethod
    def buffer_links(row: dict[str, Any], subject: Subject) -> Subject:
        return lead_links(_buffer_row(from_attribute_values(row)), subject)

    async def erase_buffer_row(self, kind: str, row: dict[str, Any], subject: Subject) -> str | None:
        """ "removed", "changed", or None when the row holds nothing of the subject."""
        key = {"PK": row["PK"], "SK": row["SK"]}
        if kind == "cursor":
            if not cursor_named(_json(row.get("state", {}).get("S")), subject):
                return None
            await self._call("delete_item", TableName=self._table, Key=key)
            return "removed"
        current: dict[str, Any] | None = row
        for _ in range(_RETRIES):
            if current is None:
                return None  # served and gone meanwhile (discarded): nothing left
            plain = from_attribute_values(current)
            change = scrub_lead(_buffer_row(plain), subject)
            if change is None:
                return None
            if change.delete:
                await self._call("delete_item", TableName=self._table, Key=key)
                await self._forget_run(plain)
                return "removed"
            sets, removes, values = [], [], {":seen": plain.get("updated_at")}
            for name, value in (("data", change.data), ("result", change.result)):
                if value is None:
                    removes.append(f"#{name}")
                else:
                    sets.append(f"#{name} = :{name}")
                    values[f":{name}"] = _text(value)
            if change.error is None:
                removes.append("#enrichment_error")
            else:
                sets.append("#enrichment_error = :error")
                values[":error"] = change.error
            update = (f"SET {', '.join(sets)} " if sets else "") + (
                f"REMOVE {', '.join(removes)}" if removes else ""
            )
            request = self.update_request(
                key, update=update.strip(), condition="#updated_at = :seen", values=values
            )
            if await self.update_row(request) is not None:
                return "changed"
            current = await self.get_row(key)  # claimed or served meanwhile: scrub what is there now
        raise RuntimeError("erasure: a buffered lead kept changing under the rewrite; send the erasure again")

    async def _forget_run(self, plain: dict[str, Any]) -> None:
        """The run row that pointed to a deleted lead, if it still does (the run then claims anew)."""
        run = plain.get("parent_run_id")
        if not isinstance(run, str) or not run:
            return
        await self.conditional_write(
            "delete_item",
            TableName=self._table,
            Key=row_key(str(plain["PK"]), f"RUN#{run}"),
            ConditionExpression="lead_key = :key",
            ExpressionAttributeValues={":key": {"S": str(plain["lead_key"])}},
        )


__all__ = ["CURSOR_SK", "LEAD_SK", "DynamoBufferEraser", "buffer_prefix"]
