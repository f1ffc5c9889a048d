"""The enrichment waterfall: one lead in, verified decision-maker addresses out, for the fewest paid calls.

Order of work for a domain-only lead (architecture.md, "The enrichment waterfall"):
1. normalise the domain; webmail, disposable and malformed domains end `invalid` for zero credits;
2. Hunter Domain Search filtered to personal executive rows: a filtered search that matches nobody is
   free, yet still returns the domain's facts (pattern, accept-all), which step 4 lives on;
3. decision-maker rows ranked by title; rows Hunter verified recently with high confidence are taken as
   they are, the others verified one at a time until the first deliverable one;
4. otherwise Perplexity names the decision-makers, and each name becomes an address in the cheapest order:
   the domain's known pattern, then Hunter Email Finder (billed only on a hit), then ranked permutations
   verified one at a time (only for names a search result supports, when the pattern is unknown, and
   never on accept-all domains);
5. otherwise a generic role address (info@...) as a secondary, last-resort contact.

A lead that names a person goes to that person first, and falls back to the decision-makers when they
are not found. Paid answers come through `paid_calls.PaidCalls`, which caches them and makes concurrent
askers share one call, so a retried or repeated lead pays nothing twice. Provider problems are mapped to
the lead's status: waiting answers (202, throttling, 5xx, timeouts) defer it, quota or credential
failures fail it, 451 drops the address for good. A spend cap reached before a paid call (`engine.budget`)
defers it without charging an attempt (`EnrichmentResult.budget_reached`).

Suppression lists (`engine.screen`, docs/privacy.md) are asked before any of this: a suppressed domain ends
the lead `not_found` for nothing, a suppressed named person is never searched (the decision-makers are
returned instead), and the steps ask before each call about a person or an address. A 451 puts the address
and its owner on the service-wide list; the result's addresses are screened once more before they leave.

A lead with a company name and no domain gets its domain first, and a job that asked for company data
gets the company's profile after (`waterfall_company`, docs/company-data.md); a lead with a domain and no
company option takes exactly the path above.

This module holds the entry point and the order of the steps; the steps are in `waterfall_steps`, the
judging of single addresses in `waterfall_addresses`, the lead's status in `waterfall_results`. The
providers are reached through the ports (`ports.py`), never an HTTP client.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.cache import ResultCache
from leadenrich.engine.company.ports import CompanyData, CompanyDirectory
from leadenrich.engine.company.steps import CompanySettings, CompanySteps
from leadenrich.engine.domains import DomainError, is_disposable, is_webmail, normalize_domain
from leadenrich.engine.models import Contact, EnrichmentResult, Lead, LeadStatus, Provider
from leadenrich.engine.names import person_from_parts
from leadenrich.engine.paid_calls import NotAMailDomain, PaidCalls
from leadenrich.engine.ports import HunterPort, PerplexityPort
from leadenrich.engine.providers.outcomes import DeadlineReached, ProviderProblem
from leadenrich.engine.ratelimit import RateLimiter
from leadenrich.engine.redaction import redact_text
from leadenrich.engine.screen import SUPPRESSED, Domain, Screen, drop_suppressed, person_of, suppressed
from leadenrich.engine.waterfall_addresses import Addresses, with_changes
from leadenrich.engine.waterfall_company import (
    CompanyDataEnricher,
    add_company,
    merged,
    resolve_lead,
    wants_company,
)
from leadenrich.engine.waterfall_results import (
    budget_result,
    conclude,
    finish,
    problem_result,
    result,
    unexpected_result,
)
from leadenrich.engine.waterfall_run import LeadRun
from leadenrich.engine.waterfall_settings import WaterfallSettings
from leadenrich.engine.waterfall_steps import PERSONAL_QUERY, Steps

__all__ = ["Enricher", "WaterfallSettings"]

log = logging.getLogger(__name__)


class Enricher:
    """Runs the waterfall. One instance per process: it also remembers providers that must not be called."""

    def __init__(
        self,
        hunter: HunterPort,
        perplexity: PerplexityPort | None,
        cache: ResultCache,
        settings: WaterfallSettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
        companies: CompanyData | None = None,
        directory: CompanyDirectory | None = None,
        company_settings: CompanySettings | None = None,
    ) -> None:
        self.cache = cache
        self.settings = settings or WaterfallSettings()
        self.clock = clock
        self.calls = PaidCalls(
            hunter, perplexity, cache, self.settings.verification_credit, limiter, clock=clock
        )
        self.steps = Steps(self.calls, cache, self.settings, Addresses(self.calls, self.settings, clock))
        self.company = CompanySteps(self.calls, cache, companies, directory, company_settings, clock)

    def with_company_data(self) -> CompanyDataEnricher:
        """This enricher with its company step on: the runner of jobs that asked for company data."""
        return CompanyDataEnricher(self)

    @property
    def perplexity(self) -> PerplexityPort | None:
        return self.calls.perplexity

    @property
    def disabled(self) -> dict[Provider, str]:
        """Providers switched off for this process (quota exhausted, key refused), with the reason."""
        return self.calls.disabled

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
        *,
        company_data: bool = False,
    ) -> EnrichmentResult:
        try:
            enriched = await self._enrich_lead(
                lead, deadline or Deadline.unbounded(), budget, screen, company_data
            )
            # The last check, whatever path found the addresses: nothing suppressed leaves the engine.
            enriched = await drop_suppressed(screen, enriched)
        except Exception as exc:  # a bug or a provider body nobody foresaw must not lose the lead
            enriched = unexpected_result(lead, exc, log)
        # One line per lead: domain, outcome and cost. Addresses never go to logs, only their count.
        log.info(
            "lead enriched",
            extra={
                "domain": redact_text(enriched.domain),
                "status": enriched.status.value,
                "addresses": len(enriched.emails),
                "hunter_calls": enriched.usage.hunter.calls,
                "hunter_credits": enriched.usage.hunter.credits,
                "perplexity_calls": enriched.usage.perplexity.calls,
                "reason": redact_text(enriched.reason or ""),
                "company": enriched.company is not None,
                "resolution": enriched.resolution.status.value if enriched.resolution else None,
            },
        )
        return enriched

    async def _enrich_lead(
        self,
        lead: Lead,
        deadline: Deadline,
        budget: SpendGate | None,
        screen: Screen | None,
        company_data: bool,
    ) -> EnrichmentResult:
        """The domain from the company name first when there is none, the company's data last when asked."""
        if lead.domain:
            enriched = await self._enrich(lead, deadline, budget, screen)
        else:
            resolved = await resolve_lead(self.company, lead, deadline, budget, screen)
            if isinstance(resolved, EnrichmentResult):
                return resolved
            lead, resolution, spent = resolved
            enriched = await self._enrich(lead, deadline, budget, screen)
            spent = merged(spent, enriched.usage)
            enriched = dataclasses.replace(enriched, resolution=resolution, usage=spent)
        if company_data and wants_company(enriched):
            enriched = await add_company(self.company, enriched, deadline, budget, screen)
        return enriched

    async def _enrich(
        self, lead: Lead, deadline: Deadline, budget: SpendGate | None, screen: Screen | None
    ) -> EnrichmentResult:
        try:
            domain = normalize_domain(lead.domain)
        except DomainError as exc:
            return result(lead, lead.domain, LeadStatus.INVALID, reason=str(exc))
        if is_webmail(domain) or is_disposable(domain):
            kind = "webmail" if is_webmail(domain) else "disposable"
            return result(
                lead, domain, LeadStatus.INVALID, reason=f"{domain} is a {kind} domain, not a company's"
            )
        # The domain and the named person, in one read of the lists, before anything else is asked.
        named = person_of(lead.first_name, lead.last_name, domain)
        blocked = await suppressed(screen, [Domain(domain), *named])
        if Domain(domain) in blocked:
            reason = f"{SUPPRESSED}: {domain} is on a suppression list; nothing was searched"
            return result(lead, domain, LeadStatus.NOT_FOUND, reason=reason)
        if Provider.HUNTER in self.disabled:
            return result(lead, domain, LeadStatus.FAILED, reason=self.disabled[Provider.HUNTER])

        # `budget` is asked before each paid call (`paid_calls.PaidCalls._billed`), never on a cache hit;
        # `screen` by the steps, before each call about a person or an address (`engine.screen`).
        run = LeadRun(
            lead=lead,
            domain=domain,
            deadline=deadline,
            budget=budget,
            screen=screen,
            named_suppressed=bool(blocked),
        )
        try:
            return await self._waterfall(run)
        except BudgetReached as reached:
            return budget_result(run, reached)
        except NotAMailDomain as exc:
            return result(lead, domain, LeadStatus.INVALID, reason=str(exc), usage=run.usage)
        except DeadlineReached:
            return result(
                lead,
                domain,
                LeadStatus.DEFERRED,
                reason="time budget ran out before the next provider call",
                usage=run.usage,
                retry_after=0.0,
                attempt_consumed=False,
            )
        except ProviderProblem as problem:
            return problem_result(run, problem)

    async def _waterfall(self, run: LeadRun) -> EnrichmentResult:
        """The order of the steps (waterfall_steps.py); the first that finds an address ends the lead."""
        steps = self.steps
        named = person_from_parts(run.lead.first_name, run.lead.last_name)
        person_key = named.full.lower() if named else ""
        if await self.cache.nothing_found(run.domain, person_key):
            run.usage.hunter.cache_hits += 1
            return finish(run, [], "nothing found recently (cached)")

        if named is not None and run.named_suppressed:
            # Never searched, guessed or verified; the company's decision-makers are still what was asked.
            run.opted_out.add(person_key)
            run.notes.append(f"{SUPPRESSED}: the named person is on a suppression list")
            run.fallback_note = run.notes[-1] + "; returning the company's decision-makers"
        elif named is not None:
            found = await steps.named_person(run, named)
            if found:
                return await conclude(
                    self.cache, run, person_key, [with_changes(found, contact=Contact.NAMED_PERSON)]
                )
            # The person may have left, or be spelt otherwise: the company's decision-makers are what a
            # salesperson wants next, and the reason says the named person was not found.
            run.notes.append(f"{named.full} not found")
            run.fallback_note = (
                f"{named.full} not found at {run.domain}; returning the company's decision-makers"
            )
        if named is not None and await self.cache.nothing_found(run.domain, ""):
            return finish(run, [], "nothing found recently (cached)")

        search = await steps.domain_search(run, PERSONAL_QUERY)
        emails = await steps.from_rows(run, steps.usable(search.emails))
        if not emails:
            emails = await steps.from_perplexity(run)
        if not emails:
            emails = await steps.generic(run)
        return await conclude(self.cache, run, person_key, emails)
