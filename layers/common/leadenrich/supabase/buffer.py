"""`LeadBuffer` on Supabase: the tables `buffer_leads` and `buffer_cursors`, changed only by the SQL functions
of `infra/supabase/migrations/0011_lead_buffer.sql`, each one PostgREST request and one transaction.

The rules live in the SQL, next to their explanation (a claim is `FOR UPDATE SKIP LOCKED` and a conditional
UPDATE; a run's one lead is a unique index); this module passes arguments and reads answers. Errors become
`LeadStoreError` through `supabase.rpc.call` (a 503 for the API: Supabase unreachable or refusing), naming
the function and the code only. The service role bypasses row-level security: every function names its
workspace itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadenrich.buffer.models import CursorState, Enrichment, LeadRecord, PushCounts, ServedQuery
from leadenrich.buffer.rows import after_served, enrichment_columns, record_of, record_row, served_cursor
from leadenrich.jobs.encoding import opt_ts, parse_ts, ts
from leadenrich.jobs.models import Page
from leadenrich.jobs.ports import LeadStoreError
from leadenrich.supabase.rpc import Connect, call, object_of, rows_of

PUSH_ROWS = 500  # leads per request: half of Supabase's default max rows, as the other adapters send


def _record(data: Any, function: str) -> LeadRecord | None:
    if data is None:
        return None
    return record_of(object_of(data, function))


class SupabaseLeadBuffer:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def push(self, workspace_id: str, namespace: str, records: Sequence[LeadRecord]) -> PushCounts:
        buffered = served = held = 0
        for start in range(0, len(records), PUSH_ROWS):
            rows = [record_row(record) for record in records[start : start + PUSH_ROWS]]
            params = {"p_workspace_id": workspace_id, "p_namespace": namespace, "p_leads": rows}
            counts = object_of(await call(self._connect, "lead_buffer_push", params), "lead_buffer_push")
            buffered += int(counts["buffered"])
            served += int(counts["already_served"])
            held += int(counts["already_buffered"])
        return PushCounts(buffered=buffered, already_served=served, already_buffered=held)

    async def claim(
        self,
        workspace_id: str,
        namespace: str,
        *,
        parent_run_id: str | None,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> LeadRecord | None:
        params = {
            "p_workspace_id": workspace_id,
            "p_namespace": namespace,
            "p_parent_run_id": parent_run_id,
            "p_token": token,
            "p_lease_until": ts(lease_until),
            "p_now": ts(now),
        }
        return _record(await call(self._connect, "lead_buffer_claim", params), "lead_buffer_claim")

    async def serve(self, record: LeadRecord, enrichment: Enrichment, now: datetime) -> LeadRecord | None:
        params = {
            "p_workspace_id": record.workspace_id,
            "p_lead_id": record.lead_id,
            "p_token": record.claim_token,
            "p_enrichment": enrichment_columns(enrichment),
            "p_now": ts(now),
        }
        return _record(await call(self._connect, "lead_buffer_serve", params), "lead_buffer_serve")

    async def discard(self, record: LeadRecord) -> bool:
        params = {
            "p_workspace_id": record.workspace_id,
            "p_lead_id": record.lead_id,
            "p_token": record.claim_token,
        }
        data = await call(self._connect, "lead_buffer_discard", params)
        if not isinstance(data, bool):
            raise LeadStoreError("Supabase lead_buffer_discard: unexpected answer (a boolean was expected)")
        return data

    async def served(self, query: ServedQuery) -> Page[LeadRecord]:
        after = after_served(query)
        params = {
            "p_workspace_id": query.workspace_id,
            "p_namespace": query.namespace,
            "p_enrichment_status": query.enrichment_status.value if query.enrichment_status else None,
            "p_since": opt_ts(query.since),
            "p_until": opt_ts(query.until),
            "p_after_served_at": after["at"] if after else None,
            "p_after_lead_id": after["id"] if after else None,
            "p_limit": query.limit + 1,
        }
        data = await call(self._connect, "lead_buffer_served", params)
        found = [record_of(row) for row in rows_of(data, "lead_buffer_served")]
        records = found[: query.limit]
        more = len(found) > query.limit
        return Page(items=records, cursor=served_cursor(query, records[-1]) if more else None)

    async def get_cursor(self, workspace_id: str, namespace: str) -> CursorState | None:
        client = await self._connect()
        try:
            response = await (
                client.table("buffer_cursors")
                .select("state, updated_at")
                .eq("workspace_id", workspace_id)
                .eq("namespace", namespace)
                .limit(1)
                .execute()
            )
        except Exception as exc:  # postgrest's APIError or httpx's: the call and its type only, no data
            raise LeadStoreError(f"Supabase buffer_cursors: {type(exc).__name__}") from None
        rows = rows_of(response.data, "buffer_cursors")
        return self._cursor(workspace_id, namespace, rows[0]) if rows else None

    async def put_cursor(
        self, workspace_id: str, namespace: str, state: dict[str, Any], now: datetime
    ) -> CursorState:
        params = {
            "p_workspace_id": workspace_id,
            "p_namespace": namespace,
            "p_state": state,
            "p_now": ts(now),
        }
        row = object_of(await call(self._connect, "lead_buffer_put_cursor", params), "lead_buffer_put_cursor")
        return self._cursor(workspace_id, namespace, row)

    @staticmethod
    def _cursor(workspace_id: str, namespace: str, row: dict[str, Any]) -> CursorState:
        updated_at = parse_ts(row.get("updated_at"))
        state = row.get("state")
        if updated_at is None or not isinstance(state, dict):
            raise LeadStoreError("Supabase buffer_cursors: unexpected answer (a cursor row was expected)")
        return CursorState(workspace_id, namespace, state, updated_at)


__all__ = ["PUSH_ROWS", "SupabaseLeadBuffer"]
