"""Supabase as the lead enrichment sink (`jobs.lead_records.LeadEnrichmentSink`): the record of a finished
item on its `leads` row (migration 0015, docs/auto-enrichment.md). `record_lead_enrichments` writes up to
500 leads per request in one transaction and never replaces a newer record, so a retried item, or an old
retry after a new run, changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadenrich.jobs.lead_records import LeadEnrichmentSink, LeadEnrichmentWrite
from leadenrich.supabase.rpc import PAGE_ROWS, Connect, call, chunks


def enrichment_row(write: LeadEnrichmentWrite) -> dict[str, Any]:
    return {
        "workspace_id": write.workspace_id,
        "lead_id": write.lead_id,
        "status": write.status.value,
        "outcome": write.outcome,
        "enriched_at": write.enriched_at.isoformat(),
        "error": write.error,
        "sources_used": list(write.sources_used),
        "sources_failed": list(write.sources_failed),
    }


class SupabaseLeadEnrichment:
    """`LeadEnrichmentSink` over the 0015 function; `connect` gives the loop's client (rpc.connect_with)."""

    def __init__(self, connect: Connect, batch_rows: int = PAGE_ROWS) -> None:
        self._connect = connect
        self.batch_rows = batch_rows

    async def record(self, writes: Sequence[LeadEnrichmentWrite]) -> int:
        """The leads updated; raises LeadStoreError when a request failed."""
        updated = 0
        for chunk in chunks(list(writes), self.batch_rows):
            rows = [enrichment_row(w) for w in chunk]
            answer = await call(self._connect, "record_lead_enrichments", {"p_rows": rows})
            updated += int(answer) if isinstance(answer, int) else 0
        return updated


def conforms(sink: SupabaseLeadEnrichment) -> LeadEnrichmentSink:
    """mypy checks the adapter against the port here."""
    return sink


__all__ = ["SupabaseLeadEnrichment", "enrichment_row"]
