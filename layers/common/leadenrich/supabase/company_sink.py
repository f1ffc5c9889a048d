"""Supabase as the company sink (`jobs.company_records.CompanySink`): a lead's company columns and its
resolved domain, and the leads whose company data is due (migration 0012, docs/company-data.md).

`save_lead_companies` writes up to 500 leads per request in one transaction; a profile never overwrites a
newer one (its `fetched_at` decides), and a resolved domain lands only on a lead stored without one, so
writing the same item twice, or an old retry after a new run, changes nothing. `company_stale_leads` is the
sweep's selection, a keyset page by lead id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadenrich.jobs.company_records import CompanySink, CompanyWrite, StaleLead
from leadenrich.supabase.rpc import PAGE_ROWS, Connect, call, chunks, rows_of


def company_row(write: CompanyWrite) -> dict[str, Any]:
    """One row of `save_lead_companies`'s argument."""
    resolution = write.resolution
    resolved = write.resolved_domain
    return {
        "workspace_id": write.workspace_id,
        "lead_id": write.lead_id,
        "profile": write.profile.as_record() if write.profile is not None else None,
        "resolved_domain": resolved,
        "confidence": resolution.confidence if resolved and resolution else None,
        "method": resolution.method.value if resolved and resolution and resolution.method else None,
    }


class SupabaseCompanySink:
    """`CompanySink` over the 0012 functions; `connect` gives the loop's client (rpc.connect_with)."""

    def __init__(self, connect: Connect, batch_rows: int = PAGE_ROWS) -> None:
        if not 1 <= batch_rows <= 1000:
            raise ValueError("batch_rows: between 1 and 1000 (save_lead_companies takes at most 1000)")
        self._connect = connect
        self.batch_rows = batch_rows

    async def save(self, writes: Sequence[CompanyWrite]) -> int:
        """The leads updated; raises LeadStoreError when a request failed."""
        updated = 0
        for chunk in chunks(list(writes), self.batch_rows):
            answer = await call(
                self._connect, "save_lead_companies", {"p_rows": [company_row(w) for w in chunk]}
            )
            updated += int(answer) if isinstance(answer, int) else 0
        return updated

    async def stale(
        self, workspace_id: str, *, max_age_days: int, after_id: str | None = None, limit: int = PAGE_ROWS
    ) -> list[StaleLead]:
        data = await call(
            self._connect,
            "company_stale_leads",
            {
                "p_workspace_id": workspace_id,
                "p_max_age_days": max_age_days,
                "p_after_id": after_id,
                "p_limit": limit,
            },
        )
        return [
            StaleLead(str(row["id"]), str(row["domain"]), row.get("company_enriched_at"))
            for row in rows_of(data, "company_stale_leads")
        ]


def conforms(sink: SupabaseCompanySink) -> CompanySink:
    """mypy checks the adapter against the port here."""
    return sink


__all__ = ["SupabaseCompanySink", "company_row"]
