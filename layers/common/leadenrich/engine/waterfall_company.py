"""The waterfall's company steps, before and after the search for addresses (docs/company-data.md):

- before: a lead with a company name and no domain gets its domain first (`CompanySteps.resolve`); an
  ambiguous name ends the lead `invalid` and an unknown one `not_found`, each with a reason naming what to
  do, and nothing else is paid for;
- after, only when the job asked for company data: the company's profile for the lead's domain, kept on
  the result. Company data never costs the lead its addresses: when it cannot be had (no provider, quota,
  throttled, the spend cap, time), the result keeps what the waterfall found and its reason says why
  there is no company data; the next enrichment of the lead asks again.

What either step spends is added to the lead's usage, so job counters and spend caps see it.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.company.resolution import DomainResolution, ResolutionStatus
from leadenrich.engine.company.steps import CompanySteps, CompanyUnavailable
from leadenrich.engine.models import NOTHING_TO_SEARCH, EnrichmentResult, Lead, LeadStatus, Usage
from leadenrich.engine.paid_calls import Tab
from leadenrich.engine.providers.outcomes import DeadlineReached, ProviderProblem
from leadenrich.engine.screen import SUPPRESSED, Screen
from leadenrich.engine.waterfall_results import budget_result, problem_result, result
from leadenrich.engine.waterfall_run import LeadRun

# Outcomes after which the company is worth asking for: the domain is a company's and was searched.
_WITH_COMPANY = frozenset({LeadStatus.FOUND, LeadStatus.RISKY, LeadStatus.NOT_FOUND})


async def resolve_lead(
    steps: CompanySteps, lead: Lead, deadline: Deadline, budget: SpendGate | None, screen: Screen | None
) -> tuple[Lead, DomainResolution, Usage] | EnrichmentResult:
    """The lead with its resolved domain, the resolution and what it cost; or the lead's final result."""
    run = LeadRun(lead=lead, domain="", deadline=deadline, budget=budget, screen=screen)
    if not lead.company_name:
        return result(lead, "", LeadStatus.INVALID, reason=NOTHING_TO_SEARCH)
    try:
        resolution = await steps.resolve(run, lead.company_name)
    except CompanyUnavailable as exc:
        return result(lead, "", LeadStatus.FAILED, reason=f"domain not resolved: {exc}", usage=run.usage)
    except BudgetReached as reached:
        return budget_result(run, reached)
    except DeadlineReached:
        return result(
            lead,
            "",
            LeadStatus.DEFERRED,
            reason="time budget ran out before the next provider call",
            usage=run.usage,
            retry_after=0.0,
            attempt_consumed=False,
        )
    except ProviderProblem as problem:
        return problem_result(run, problem)
    if resolution.status is not ResolutionStatus.RESOLVED or not resolution.domain:
        ambiguous = resolution.status is ResolutionStatus.AMBIGUOUS
        status = LeadStatus.INVALID if ambiguous else LeadStatus.NOT_FOUND
        ended = result(lead, "", status, reason=resolution.reason, usage=run.usage)
        return dataclasses.replace(ended, resolution=resolution)
    return lead.model_copy(update={"domain": resolution.domain}), resolution, run.usage


def wants_company(enriched: EnrichmentResult) -> bool:
    """Whether the company step runs after this outcome: not for invalid, failed or deferred leads, nor
    for a suppressed domain (never searched for anything)."""
    return (
        enriched.status in _WITH_COMPANY
        and bool(enriched.domain)
        and not (enriched.reason or "").startswith(SUPPRESSED)
    )


async def add_company(
    steps: CompanySteps,
    enriched: EnrichmentResult,
    deadline: Deadline,
    budget: SpendGate | None,
    screen: Screen | None,
) -> EnrichmentResult:
    """The result with its company's profile, and the cost of getting it (see the module docstring)."""
    tab = Tab(deadline=deadline, budget=budget, screen=screen)
    why: str | None = None
    try:
        profile = await steps.profile(tab, enriched.domain)
    except CompanyUnavailable as exc:
        profile, why = None, str(exc)
    except BudgetReached as reached:
        profile, why = None, f"budget_reached: {reached.scope}"
    except DeadlineReached:
        profile, why = None, "time budget ran out"
    except ProviderProblem as problem:
        profile, why = None, problem.reason
    if profile is None and why is None:
        why = f"the provider has no company for {enriched.domain}"
    note = f"company data not fetched ({why})" if why else None
    reason = "; ".join(part for part in (enriched.reason, note) if part) or None
    usage = merged(enriched.usage, tab.usage)
    return dataclasses.replace(enriched, company=profile, reason=reason, usage=usage)


def merged(*usages: Usage) -> Usage:
    total = Usage()
    for usage in usages:
        total.add(usage)
    return total


class CompanyAware(Protocol):
    """What `CompanyDataEnricher` needs of the enricher (`waterfall.Enricher`)."""

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
        *,
        company_data: bool = False,
    ) -> EnrichmentResult: ...


class CompanyDataEnricher:
    """The processor's runner for jobs that asked for company data (`JobOptions.company_data`): the same
    enricher, its company step on."""

    def __init__(self, enricher: CompanyAware) -> None:
        self.enricher = enricher

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult:
        return await self.enricher.enrich(lead, deadline, budget, screen, company_data=True)


__all__ = ["CompanyDataEnricher", "add_company", "merged", "resolve_lead", "wants_company"]
