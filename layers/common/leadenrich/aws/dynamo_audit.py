"""`AuditLog` in the service's DynamoDB table (issue 14; docs/privacy.md "Audit trail").

    audit entry  PK  WS#{workspace}#AUDIT   SK  {at}#{entry_id}     (TTL `expires_at`: at + retention)

One partition per workspace, its sort key the entry's time (`jobs.encoding.ts`, fixed width) then its
ULID-like id: a Query read backwards is newest first, a time range is a key condition (`since` inclusive,
`until` exclusive), and the other filters (action, target, job_id, actor) are filter expressions on it. An
entry whose `expires_at` has passed is not returned even before DynamoDB's TTL (which may take a day or
two) removes it.

Append only: a PutItem with `attribute_not_exists(PK)`, so an entry is never replaced; nothing here
updates or deletes one, and the template denies the functions UpdateItem, DeleteItem and BatchWriteItem on
`WS#*#AUDIT` partitions (tests/infra/test_audit_iam.py). The partition takes the workspace's API actions
(a few a second at most), far below a partition's 1,000 writes a second; the table has no local index, so
a partition has no size limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from leadenrich.aws.dynamo_codec import from_attribute_values, to_attribute_values
from leadenrich.aws.dynamo_ops import DynamoTable
from leadenrich.aws.dynamo_schema import TTL_ATTRIBUTE, row_key
from leadenrich.jobs.encoding import parse_ts, read_cursor, ts
from leadenrich.jobs.models import Page
from leadenrich.privacy.audit import (
    AuditRetention,
    after_entry,
    audit_cursor,
    check_query,
    detail_text,
    expires_at,
    new_entry_id,
    read_detail,
)
from leadenrich.privacy.ports import AuditEntry, AuditQuery

_KEY_FIELDS = ("PK", "SK")
_ID_ATTEMPTS = 3  # a fresh id after a collision of 80 random bits: never, in practice
_FILTERS = ("action", "target", "job_id", "actor")


def audit_pk(workspace_id: str) -> str:
    """The workspace's audit partition: what the template's Deny matches (`WS#*#AUDIT`)."""
    return f"WS#{workspace_id}#AUDIT"


def audit_sk(at: str, entry_id: str) -> str:
    return f"{at}#{entry_id}"


class DynamoAuditLog(DynamoTable):
    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        retention: AuditRetention | None = None,
        serialize_calls: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table_name, client, serialize_calls=serialize_calls)
        self._retention = retention or AuditRetention()
        self._now = now

    async def append(self, entry: AuditEntry) -> AuditEntry:
        detail = detail_text(entry)
        days = await self._retention.days(entry.workspace_id)
        at = ts(entry.at)
        for _ in range(_ID_ATTEMPTS):
            entry_id = new_entry_id(entry.at)
            row = {
                "PK": audit_pk(entry.workspace_id),
                "SK": audit_sk(at, entry_id),
                "entry_id": entry_id,
                "workspace_id": entry.workspace_id,
                "at": at,
                "actor": entry.actor,
                "action": entry.action,
                "target": entry.target,
                "job_id": entry.job_id,
                "source_ip": entry.source_ip,
                "detail": detail,
                TTL_ATTRIBUTE: expires_at(entry.at, days),
            }
            written = await self.conditional_write(
                "put_item",
                TableName=self._table,
                Item=to_attribute_values(row),
                ConditionExpression="attribute_not_exists(PK)",
            )
            if written is not None:
                stored_at = parse_ts(at)
                assert stored_at is not None
                return replace(entry, at=stored_at, entry_id=entry_id)
        raise RuntimeError("audit: no free entry id")  # pragma: no cover - 80 random bits

    async def query(self, query: AuditQuery) -> Page[AuditEntry]:
        check_query(query)
        after = after_entry(query)
        pk = audit_pk(query.workspace_id)
        values: dict[str, Any] = {":pk": pk, ":now": int(self._now())}
        key = "#PK = :pk"
        if query.since is not None and query.until is not None:
            key += " AND #SK BETWEEN :since AND :until"  # `until#...` sorts after `until`: excluded
        elif query.since is not None:
            key += " AND #SK >= :since"
        elif query.until is not None:
            key += " AND #SK < :until"
        values[":since"], values[":until"] = _opt_ts(query.since), _opt_ts(query.until)
        filters = [f"#{TTL_ATTRIBUTE} > :now"]
        for name in _FILTERS:
            wanted = getattr(query, name)
            if wanted is not None:
                filters.append(f"#{name} = :{name}")
                values[f":{name}"] = wanted
        request = self.query_request(key, values, " AND ".join(filters), ScanIndexForward=False)
        start_key = row_key(pk, audit_sk(*after)) if after is not None else None
        rows, cursor = await self.query_page(
            request, limit=query.limit, start_key=start_key, key_fields=_KEY_FIELDS
        )
        next_cursor = None
        if cursor is not None:  # the last row read (returned or filtered out): its place in the partition
            at, _, entry_id = str(read_cursor(cursor)["SK"]).partition("#")
            next_cursor = audit_cursor(query, at, entry_id)
        return Page(items=[_entry(from_attribute_values(row)) for row in rows], cursor=next_cursor)


def _opt_ts(value: Any) -> str | None:
    return ts(value) if value is not None else None


def _entry(row: dict[str, Any]) -> AuditEntry:
    at = parse_ts(row["at"])
    assert at is not None
    return AuditEntry(
        workspace_id=str(row["workspace_id"]),
        at=at,
        actor=str(row["actor"]),
        action=str(row["action"]),
        target=str(row.get("target", "")),
        job_id=row.get("job_id"),
        source_ip=row.get("source_ip"),
        detail=read_detail(row.get("detail")),
        entry_id=str(row["entry_id"]),
    )


__all__ = ["DynamoAuditLog", "audit_pk", "audit_sk"]
