"""Enriching a lead on the request path (`POST /buffer/next`), with what the processor enriches with.

The lead goes through the processor's engine: the same `Enricher` (the waterfall) for a company or a
person, the same `Verifier` for a lead that came with an address, on the same cache, rate limiter and
suppression screen (`runtime_serving` builds them as `runtime.processor` does). What differs is the clock:
the API has about 25 s, so the run is bounded by a `Deadline` well inside API Gateway's 29 s, and what
cannot finish in it comes back `deferred` (the engine hands back before a call it could not finish), and
the lead is served with its enrichment marked so rather than the caller getting a 5xx.

Spend: there is no job, so no job cap; the workspace's monthly credit budget holds (`WorkspaceGate`), and
what a call costs is added to the workspace's month in the spend ledger every processor reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from leadenrich.buffer.models import Enrichment, EnrichmentStatus
from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, Provider
from leadenrich.engine.screen import Address, Domain, Screen, Subject, person_of, suppressed
from leadenrich.jobs.budget import (
    WORKSPACE_MONTHLY_CREDITS,
    Spend,
    SpendCaps,
    month_scope,
    utc_month,
)

NO_PROVIDER = "no provider configured (HUNTER_API_KEY): the lead is served unenriched"
_FINISHED = {
    LeadStatus.FOUND: EnrichmentStatus.COMPLETED,
    LeadStatus.RISKY: EnrichmentStatus.COMPLETED,
    LeadStatus.NOT_FOUND: EnrichmentStatus.COMPLETED,
    LeadStatus.INVALID: EnrichmentStatus.COMPLETED,
    LeadStatus.FAILED: EnrichmentStatus.FAILED,
    LeadStatus.DEFERRED: EnrichmentStatus.DEFERRED,
}


class LeadEnricher(Protocol):
    """The engine's entry point (`Enricher`, `Verifier`): the processor's `LeadEnricher` shape."""

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult: ...


@dataclass(frozen=True)
class Engine:
    """The waterfall for companies and people, the verifier for leads that came with an address."""

    enricher: LeadEnricher
    verifier: LeadEnricher

    def for_lead(self, lead: Lead) -> LeadEnricher:
        return self.verifier if lead.email else self.enricher


def enrichment_of(result: EnrichmentResult, now: datetime) -> Enrichment:
    """The record of one run: its status, the providers it used (a call or a cache hit) and the one whose
    problem stopped it, and the result as the job items store theirs."""
    status = _FINISHED[result.status]
    used = tuple(p.value for p in Provider if result.usage.of(p).calls or result.usage.of(p).cache_hits)
    reason = result.reason or ""
    stopped = status is not EnrichmentStatus.COMPLETED
    failed = tuple(p.value for p in Provider if stopped and reason.startswith(f"{p.value}:"))
    return Enrichment(
        status=status,
        enriched_at=now,
        error=(reason or None) if stopped else None,
        sources_used=used,
        sources_failed=failed,
        result=result.as_record(),
    )


def not_enriched(reason: str, now: datetime) -> Enrichment:
    """A lead served without a run (no provider configured): deferred, for a later run to finish."""
    return Enrichment(status=EnrichmentStatus.DEFERRED, enriched_at=now, error=reason)


async def enrich(
    engine: Engine,
    lead: Lead,
    deadline: Deadline,
    *,
    budget: SpendGate | None,
    screen: Screen | None,
    now: Callable[[], datetime],
) -> Enrichment:
    result = await engine.for_lead(lead).enrich(lead, deadline, budget, screen)
    return enrichment_of(result, now())


def subjects_of(lead: Lead) -> list[Subject]:
    """What the suppression lists are asked about a lead: its company, its person, its address."""
    subjects: list[Subject] = []
    try:
        domain = normalize_domain(lead.domain)
    except DomainError:
        domain = None
    if domain is not None:
        subjects += [Domain(domain), *person_of(lead.first_name, lead.last_name, domain)]
    if lead.email:
        subjects.append(Address(lead.email))
    return subjects


async def suppressed_leads(screen: Screen | None, leads: Iterable[Lead]) -> list[bool]:
    """For each lead, whether its company, person or address is suppressed: one read of the lists for all."""
    groups = [subjects_of(lead) for lead in leads]
    found = await suppressed(screen, [s for group in groups for s in group])
    return [bool(found.intersection(group)) for group in groups]


class WorkspaceGate:
    """The `SpendGate` of a paid call made outside any job: the workspace's monthly credit budget (its own,
    else the deployment's default) is asked before the call; the call's cost goes to the workspace's month."""

    def __init__(
        self, caps: SpendCaps, workspace_id: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._caps = caps
        self._workspace = workspace_id
        self._clock = clock
        self._monthly: int | None = None

    async def allow(self, provider: Provider) -> None:
        if self._monthly is None:
            stored = await self._caps.ledger.monthly_credits(self._workspace)
            self._monthly = self._caps.default_monthly_credits if stored is None else stored
        if not self._monthly:
            return
        scope = month_scope(utc_month(self._clock()))
        spent = await self._caps.ledger.spent(self._workspace, [scope])
        if spent[scope].credits >= self._monthly:
            raise BudgetReached(WORKSPACE_MONTHLY_CREDITS)

    async def record(self, provider: Provider, *, credits: float, cost_usd: float) -> None:
        if credits == 0 and cost_usd == 0:
            return
        scope = month_scope(utc_month(self._clock()))
        await self._caps.ledger.add(self._workspace, [scope], Spend(credits, cost_usd))


__all__ = [
    "NO_PROVIDER",
    "Engine",
    "LeadEnricher",
    "WorkspaceGate",
    "enrich",
    "enrichment_of",
    "not_enriched",
    "subjects_of",
    "suppressed_leads",
]
