"""`GET /stats` from Supabase: one RPC (`lead_stats`, migration 0003) aggregates leads and addresses."""

from __future__ import annotations

from typing import Any

from leadenrich.engine.models import EmailSource, EmailStatus
from leadenrich.jobs.ports import LeadStats
from leadenrich.supabase.rpc import Connect, call, object_of


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


class SupabaseStats:
    """`StatsReader` over `lead_stats`; `connect` gives the loop's client (rpc.connect_with)."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    async def stats(self, workspace_id: str) -> LeadStats:
        data = object_of(
            await call(self._connect, "lead_stats", {"p_workspace_id": workspace_id}), "lead_stats"
        )
        stored = data.get("emails_by_source") or {}
        by_source = {
            source.value: {
                status.value: int((stored.get(source.value) or {}).get(status.value, 0))
                for status in EmailStatus
            }
            for source in EmailSource
        }
        return LeadStats(
            total_leads=int(data["total_leads"]),
            leads_with_domain=int(data["leads_with_domain"]),
            leads_with_validated_email=int(data["leads_with_validated_email"]),
            leads_missing_email=int(data["leads_missing_email"]),
            emails_total=int(data["emails_total"]),
            emails_by_source=by_source,
            average_confidence_score=_number(data.get("average_confidence_score")),
            average_confidence_score_active=_number(data.get("average_confidence_score_active")),
        )
