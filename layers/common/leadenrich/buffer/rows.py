"""What every `LeadBuffer` adapter encodes the same way: a record as a row of plain values, the enrichment's
columns, and the served listing's cursor.

A row holds times as `jobs.encoding.ts` text (fixed-width UTC, so text order is time order in SQLite's
columns and DynamoDB's keys), the lead as the JSON of its set fields, and lists as lists; Supabase's
timestamptz columns answer in another offset, which `parse_ts` reads back. The cursor names the workspace and
a digest of the filters besides the position (the last lead's served time, id, namespace and key: what each
store needs to resume), so a cursor of another listing is a `BadCursor`, never a page of something else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from leadenrich.buffer.models import BufferState, Enrichment, EnrichmentStatus, LeadRecord, ServedQuery
from leadenrich.engine.models import Lead
from leadenrich.jobs.encoding import (
    ANOTHER_LISTING,
    BadCursor,
    cursor_ts,
    decode_cursor,
    encode_cursor,
    opt_ts,
    parse_ts,
    ts,
)

_LISTING = "leads"


def enrichment_columns(enrichment: Enrichment) -> dict[str, Any]:
    return {
        "enrichment_status": enrichment.status.value,
        "enriched_at": opt_ts(enrichment.enriched_at),
        "enrichment_error": enrichment.error,
        "sources_used": list(enrichment.sources_used),
        "sources_failed": list(enrichment.sources_failed),
        "result": enrichment.result,
    }


def record_row(record: LeadRecord) -> dict[str, Any]:
    """The record as one row of plain values (None where a column is empty)."""
    return {
        "workspace_id": record.workspace_id,
        "namespace": record.namespace,
        "lead_id": record.lead_id,
        "lead_key": record.lead_key,
        "lead": record.lead.model_dump(exclude_none=True),
        "data": record.data,
        "state": record.state.value,
        "pushed_at": ts(record.pushed_at),
        "parent_run_id": record.parent_run_id,
        "claim_token": record.claim_token,
        "lease_until": opt_ts(record.lease_until),
        "served_at": opt_ts(record.served_at),
        "updated_at": opt_ts(record.updated_at),
        **enrichment_columns(record.enrichment),
    }


def _json(value: Any) -> Any:
    """A JSON column as stored: SQLite keeps text, PostgreSQL and DynamoDB keep the value."""
    return json.loads(value) if isinstance(value, str) else value


def record_of(row: Mapping[str, Any]) -> LeadRecord:
    """A row as a record (every store's row reads back through here)."""
    pushed_at = parse_ts(row["pushed_at"])
    assert pushed_at is not None  # every row is written with its time
    result, data = _json(row.get("result")), _json(row.get("data"))
    return LeadRecord(
        workspace_id=str(row["workspace_id"]),
        namespace=str(row["namespace"]),
        lead_id=str(row["lead_id"]),
        lead_key=str(row["lead_key"]),
        lead=Lead.model_validate(_json(row["lead"])),
        state=BufferState(row["state"]),
        pushed_at=pushed_at,
        data=data if isinstance(data, dict) else None,
        parent_run_id=row.get("parent_run_id") or None,
        claim_token=row.get("claim_token") or None,
        lease_until=parse_ts(row.get("lease_until")),
        served_at=parse_ts(row.get("served_at")),
        enrichment=Enrichment(
            status=EnrichmentStatus(row.get("enrichment_status") or EnrichmentStatus.PENDING.value),
            enriched_at=parse_ts(row.get("enriched_at")),
            error=row.get("enrichment_error") or None,
            sources_used=tuple(_json(row.get("sources_used")) or ()),
            sources_failed=tuple(_json(row.get("sources_failed")) or ()),
            result=result if isinstance(result, dict) else None,
        ),
        updated_at=parse_ts(row.get("updated_at")),
    )


def _filters(query: ServedQuery) -> str:
    """A digest of the listing's filters: what a cursor is bound to besides its workspace."""
    status = query.enrichment_status.value if query.enrichment_status else None
    filters = [query.namespace, status, opt_ts(query.since), opt_ts(query.until)]
    return hashlib.sha256(json.dumps(filters).encode()).hexdigest()[:16]


def served_cursor(query: ServedQuery, last: LeadRecord) -> str:
    """Where a listing of `query` stopped: its last lead."""
    assert last.served_at is not None  # only served leads are listed
    return position_cursor(query, ts(last.served_at), last.lead_id, last.namespace, last.lead_key)


def position_cursor(query: ServedQuery, at: str, lead_id: str, namespace: str, key: str) -> str:
    """A cursor of `query`'s listing at a position: a served time (`ts` text), a lead id, its namespace and
    key (a store that resumes from its own key, DynamoDB, knows no more than that)."""
    return encode_cursor(
        {
            "list": _LISTING,
            "ws": query.workspace_id,
            "q": _filters(query),
            "at": at,
            "id": lead_id,
            "ns": namespace,
            "key": key,
        }
    )


def after_served(query: ServedQuery) -> dict[str, str] | None:
    """The position the query's cursor names (`at` as stored, `id`, `ns`, `key`); None without a cursor;
    BadCursor when it is not a cursor of this workspace's listing with these filters, or names a position
    outside its time range."""
    if query.cursor is None:
        return None
    scope = {"list": _LISTING, "ws": query.workspace_id, "q": _filters(query)}
    fields = decode_cursor(query.cursor, scope, ("at", "id", "ns", "key"), {"id": "lead_"})
    fields["at"] = cursor_ts(fields["at"])
    before = query.since is not None and fields["at"] < ts(query.since)
    if before or (query.until is not None and fields["at"] >= ts(query.until)):
        raise BadCursor(ANOTHER_LISTING)
    return fields


__all__ = [
    "after_served",
    "enrichment_columns",
    "position_cursor",
    "record_of",
    "record_row",
    "served_cursor",
]
