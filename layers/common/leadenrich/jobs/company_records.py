"""A stored lead's company data, written where the lead lives (Supabase `leads`, migration 0012).

The processor writes an item's company profile and its domain resolution for the item's stored lead, after
its addresses and before its result commits, like the addresses (`EmailSink`): a crash in between runs the
item again, and the write is an idempotent update. A failed write defers the item (an attempt charged,
backoff; every paid answer is cached, so the next try costs nothing); a job without stored leads (inline
leads without Supabase, DynamoDB-only deployments) keeps its company data in the item's result only.

The sweep: stored leads whose company data is older than the maximum age (or was never fetched) are what
`CompanySink.stale` lists, a keyset page at a time, for a job with `company_data` to refresh them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.company.resolution import DomainResolution, ResolutionStatus
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus
from leadenrich.jobs.models import Item
from leadenrich.jobs.retry import write_failed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompanyWrite:
    """One item's company data for its stored lead: the profile and/or the domain it was resolved to."""

    workspace_id: str
    lead_id: str
    profile: CompanyProfile | None = None
    resolution: DomainResolution | None = None

    @property
    def resolved_domain(self) -> str | None:
        resolution = self.resolution
        if resolution is None or resolution.status is not ResolutionStatus.RESOLVED:
            return None
        return resolution.domain


@dataclass(frozen=True)
class StaleLead:
    """A stored lead whose company data is due: never fetched, or fetched before the cut-off."""

    lead_id: str
    domain: str
    company_enriched_at: str | None  # ISO 8601, None when never fetched


class CompanySink(Protocol):
    async def save(self, writes: Sequence[CompanyWrite]) -> int:
        """Write each lead's company columns (and the resolved domain of a lead stored without one);
        returns the leads updated. Idempotent."""
        ...

    async def stale(
        self, workspace_id: str, *, max_age_days: int, after_id: str | None = None, limit: int = 500
    ) -> list[StaleLead]:
        """Leads with a domain whose company data is older than `max_age_days` or missing, by id."""
        ...


def resolved_lead(item: Item, result: EnrichmentResult) -> Lead | None:
    """A name-only lead with the domain it was resolved to, for the rules that read a lead's domain (its
    region: `privacy.review.ItemPolicy`); None for every other item."""
    resolution = result.resolution
    if item.lead.domain or resolution is None or resolution.status is not ResolutionStatus.RESOLVED:
        return None
    return item.lead.model_copy(update={"domain": resolution.domain or ""})


def company_write(item: Item, result: EnrichmentResult) -> CompanyWrite | None:
    """What an item's final result gives its stored lead, or None (no stored lead, nothing to write)."""
    if item.lead_id is None or result.status is LeadStatus.DEFERRED:
        return None
    resolved = result.resolution if result.resolution is not None else None
    if result.company is None and (resolved is None or resolved.status is not ResolutionStatus.RESOLVED):
        return None
    return CompanyWrite(item.workspace_id, item.lead_id, result.company, resolved)


async def store_company(sink: CompanySink | None, item: Item, result: EnrichmentResult) -> EnrichmentResult:
    """Write the item's company data for its stored lead (see the module docstring); a failed write turns
    the result into a charged deferral, as a failed address write does."""
    write = company_write(item, result) if sink is not None else None
    if sink is None or write is None:
        return result
    try:
        await sink.save([write])
    except Exception as exc:  # the type only: the text may quote the rows
        log.warning("company data not stored", extra={"error": type(exc).__name__, "job": item.job_id})
        return write_failed(result, "storing the company data", exc)
    return result


__all__ = ["CompanySink", "CompanyWrite", "StaleLead", "company_write", "resolved_lead", "store_company"]
