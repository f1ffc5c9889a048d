"""The re-verification sweep's place in Supabase `emails` (`leadenrich.reverify.ports.ReverifyPlace`;
docs/reverification.md), through migration 0016's functions: the workspace's active addresses by their
`verified_at` (an index, not a scan), and a new verdict written to every row of the address.

Job items kept in Supabase (JOB_STORE=supabase) are not a place of their own: their found addresses are the
stored leads' `emails` rows, which this place reads and writes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from leadenrich.reverify import rules
from leadenrich.reverify.ports import Rewrite, StaleAddress
from leadenrich.supabase.rpc import Connect, call, rows_of

STALE = "reverify_stale_emails"
APPLY = "reverify_apply_emails"
PLACE = "supabase.emails"


class SupabaseReverifyPlace:
    """See the module docstring."""

    name = PLACE

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def stale(self, workspace_id: str, before: datetime, limit: int) -> list[StaleAddress]:
        if limit <= 0:
            return []
        params = {
            "p_workspace_id": workspace_id,
            "p_before": before.astimezone(UTC).isoformat(),
            "p_limit": limit,
        }
        found: list[StaleAddress] = []
        for row in rows_of(await call(self._connect, STALE, params), STALE):
            at = rules.parse_time(row.get("verified_at"))
            if at is not None:
                found.append(StaleAddress(str(row["email"]), at, int(row.get("uses") or 0)))
        return found

    async def apply(
        self, workspace_id: str, email: str, verdict: rules.Verdict, now: datetime
    ) -> list[Rewrite]:
        params = {
            "p_workspace_id": workspace_id,
            "p_address": email.lower(),
            "p_status": verdict.status,
            "p_hunter_status": verdict.hunter_status,
            "p_deliverability": verdict.deliverability,
            "p_verified_at": verdict.verified_at,
        }
        rewrites: list[Rewrite] = []
        for row in rows_of(await call(self._connect, APPLY, params), APPLY):
            at = rules.parse_time(row.get("verified_at"))
            before = rules.Verdict(
                str(row.get("status") or ""),
                str(row.get("hunter_status") or ""),
                str(row.get("deliverability") or ""),
                at.isoformat() if at else None,
            )
            lead_id = str(row["lead_id"]) if row.get("lead_id") else None
            rewrites.append(
                Rewrite(PLACE, email.lower(), before, before.graded() != verdict.graded(), lead_id=lead_id)
            )
        return rewrites


__all__ = ["APPLY", "STALE", "SupabaseReverifyPlace"]
