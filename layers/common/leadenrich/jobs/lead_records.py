"""A stored lead's enrichment record (seed 002's fields), written when its item finishes.

Where the lead lives: Supabase `leads` columns (migration 0015). Without Supabase a lead created through
`POST /leads` lives in its job's item, whose result is its record (docs/auto-enrichment.md). The record
is what `process_all`'s re-enrichment window reads (`jobs.reenrich`) and what a caller reads back:
`enrichment_status`, `enrichment_outcome` (the engine's verdict), `enriched_at`, `enrichment_error`,
`sources_used`, `sources_failed`.

Written after the item's addresses and company data and before its result commits, like them: a crash in
between runs the item again, and the write is idempotent (a record never replaces a newer one). A failed
write defers the item (an attempt charged; every paid answer is cached, so the next try costs nothing):
without the record, the lead would be paid for again by the next nightly `--all`. An item that dies
(attempts exhausted) records `failed` on a best-effort basis: its reason is the item's already.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leadenrich.buffer.enrichment import enrichment_of
from leadenrich.buffer.models import EnrichmentStatus
from leadenrich.engine.models import EnrichmentResult, LeadStatus
from leadenrich.jobs.models import Item
from leadenrich.jobs.retry import write_failed

log = logging.getLogger(__name__)
MAX_ERROR_CHARS = 512  # a reason is the engine's own text; kept bounded in the lead's row


@dataclass(frozen=True)
class LeadEnrichmentWrite:
    workspace_id: str
    lead_id: str
    status: EnrichmentStatus
    outcome: str | None  # the engine's verdict (`LeadStatus`) when it reached one
    enriched_at: datetime
    error: str | None = None
    sources_used: tuple[str, ...] = ()
    sources_failed: tuple[str, ...] = ()


class LeadEnrichmentSink(Protocol):
    async def record(self, writes: Sequence[LeadEnrichmentWrite]) -> int:
        """Write each lead's record unless the lead holds a newer one; returns the leads updated."""
        ...


def enrichment_write(item: Item, result: EnrichmentResult, now: datetime) -> LeadEnrichmentWrite | None:
    """The record a final result gives its stored lead; None without a stored lead or for a deferral."""
    if item.lead_id is None or result.status is LeadStatus.DEFERRED:
        return None
    made = enrichment_of(result, now)
    return LeadEnrichmentWrite(
        workspace_id=item.workspace_id,
        lead_id=item.lead_id,
        status=made.status,
        outcome=result.status.value,
        enriched_at=now,
        error=made.error[:MAX_ERROR_CHARS] if made.error else None,
        sources_used=made.sources_used,
        sources_failed=made.sources_failed,
    )


async def store_lead_enrichment(
    sink: LeadEnrichmentSink | None, item: Item, result: EnrichmentResult, now: datetime
) -> EnrichmentResult:
    """Write the item's record on its lead (module docstring); a failed write is a charged deferral."""
    write = enrichment_write(item, result, now) if sink is not None else None
    if sink is None or write is None:
        return result
    try:
        await sink.record([write])
    except Exception as exc:  # the type only: the text may quote the rows
        log.warning("lead enrichment not recorded", extra={"error": type(exc).__name__, "job": item.job_id})
        return write_failed(result, "recording the lead's enrichment", exc)
    return result


async def record_dead(sink: LeadEnrichmentSink | None, item: Item, reason: str, now: datetime) -> None:
    """A dead item's lead: `failed` with the reason, best effort (the item's own record holds it too)."""
    if sink is None or item.lead_id is None:
        return
    write = LeadEnrichmentWrite(
        item.workspace_id,
        item.lead_id,
        EnrichmentStatus.FAILED,
        LeadStatus.FAILED.value,
        now,
        error=reason[:MAX_ERROR_CHARS],
    )
    try:
        await sink.record([write])
    except Exception as exc:
        log.warning("lead enrichment not recorded", extra={"error": type(exc).__name__, "job": item.job_id})


__all__ = [
    "LeadEnrichmentSink",
    "LeadEnrichmentWrite",
    "enrichment_write",
    "record_dead",
    "store_lead_enrichment",
]
