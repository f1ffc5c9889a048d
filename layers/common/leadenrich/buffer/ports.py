"""The lead buffer's store port: what DynamoDB, SQLite and Supabase each guarantee, stated once.

Every state change is conditional, so concurrent callers (API Lambdas, threads of the local gateway) can
never serve one lead twice or lose one:

- `push` adds each record unless its namespace holds that lead already (`lead_key`): served (the
  registry: never again in this namespace), or buffered or claimed (not twice in the buffer);
- `claim` hands a caller the oldest lead of the namespace that is buffered, or claimed under a lease that
  ran out (a caller that died: seed 003's "stuck claimed leads"), as one atomic step. With a
  `parent_run_id`, a run gets at most one lead per namespace: the lead that run holds already (claimed or
  served) comes back as it is, its lease renewed, instead of another;
- `serve` marks a claimed lead served with its enrichment, only while the caller's claim (its token)
  holds it; a lead served already takes the new enrichment (a retried run's);
- `discard` deletes a claimed lead found suppressed, only while the claim holds it: it is never served,
  and its personal data is gone.

A record's `claim_token` and `parent_run_id` stay with it once served, so a retried run can still update
its lead's enrichment; a claim taken back after its lease takes them over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from leadenrich.buffer.models import CursorState, Enrichment, LeadRecord, PushCounts, ServedQuery
from leadenrich.jobs.models import Page


class LeadBuffer(Protocol):
    async def push(self, workspace_id: str, namespace: str, records: Sequence[LeadRecord]) -> PushCounts:
        """Buffer the records the namespace does not hold yet (each record's `lead_key`); count the rest."""
        ...

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
        """The lead `parent_run_id` holds in the namespace (lease renewed when still claimed), else the
        oldest claimable lead, now claimed with `token` until `lease_until`; None when there is none."""
        ...

    async def serve(self, record: LeadRecord, enrichment: Enrichment, now: datetime) -> LeadRecord | None:
        """The lead served (at `now`, unless served before) with `enrichment`, while `record.claim_token`
        still holds it; None when the claim was lost."""
        ...

    async def discard(self, record: LeadRecord) -> bool:
        """Delete a claimed lead while `record.claim_token` holds it; False when the claim was lost."""
        ...

    async def served(self, query: ServedQuery) -> Page[LeadRecord]:
        """The workspace's served leads, newest first (served_at, then lead id), filtered, in pages; a
        cursor of another listing is a `BadCursor`."""
        ...

    async def get_cursor(self, workspace_id: str, namespace: str) -> CursorState | None:
        """The namespace's stored cursor state; None when none was stored."""
        ...

    async def put_cursor(
        self, workspace_id: str, namespace: str, state: dict[str, Any], now: datetime
    ) -> CursorState:
        """Store (replace) the namespace's cursor state."""
        ...


__all__ = ["LeadBuffer"]
