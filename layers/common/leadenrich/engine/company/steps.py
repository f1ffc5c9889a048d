"""The company steps of a lead: its domain from its company name, and its company's firmographics.

Both are paid answers got the way `paid_calls.PaidCalls` gets every other one, through its machinery: the
cache first (`CompanyCache`), then one call shared by concurrent askers (single flight), a rate-limiter
slot before it, the lead's spend gate asked before a call that may bill and told what it cost after, the
call counted on the lead's tab (`Usage`), and a provider whose quota is gone or whose key is refused
switched off for the process.

Resolution (`resolution.py` has the rules): Hunter Discover first, which costs nothing and lists every
company under the name, so an ambiguous name is reported for free; only a name Discover does not know goes
to Domain Search with `company=` (Hunter's fuzzier match), with the waterfall's own filters, and the page
it answers is cached under the domain found: the waterfall's first search of that domain is then a cache
hit, so resolving costs no credit more than a lead that came with its domain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from leadenrich.engine.cache import ResultCache
from leadenrich.engine.company.cache import CompanyCache
from leadenrich.engine.company.names import company_key
from leadenrich.engine.company.ports import CompanyData, CompanyDirectory, CompanyDomainSearch, NamedCompany
from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.company.resolution import (
    DomainResolution,
    ResolutionMethod,
    ResolutionStatus,
    decide,
)
from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.models import Provider
from leadenrich.engine.paid_calls import PaidCalls, Tab
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.waterfall_steps import PERSONAL_QUERY

_T = TypeVar("_T")

DISCOVER_KEY = "hunter.discover"
DOMAIN_SEARCH_KEY = "hunter.domain_search"


@dataclass(frozen=True)
class CompanySettings:
    # Company data older than this is fetched again when its lead is enriched again, and is what the
    # Supabase sweep selects (seed 002: 90 days).
    max_age: timedelta = timedelta(days=90)


class CompanyUnavailable(Exception):
    """No company data can be had in this process: no provider configured, or it was switched off."""


class CompanySteps:
    """Shared by every lead of the process (a lead's own state travels on its tab)."""

    def __init__(
        self,
        calls: PaidCalls,
        results: ResultCache,
        data: CompanyData | None,
        directory: CompanyDirectory | None,
        settings: CompanySettings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.calls = calls
        self.results = results
        self.data = data
        self.directory = directory
        self.settings = settings or CompanySettings()
        self.cache = CompanyCache(results.port, self.settings.max_age)
        self.clock = clock

    # -- the domain of a name ------------------------------------------------------------------------------

    async def resolve(self, tab: Tab, name: str) -> DomainResolution:
        """The resolution of `name` (cached: the same name costs nothing the second time)."""
        directory = self.directory
        if directory is None:
            raise CompanyUnavailable("no company directory configured: leads need a domain")
        if Provider.HUNTER in self.calls.disabled:
            raise CompanyUnavailable(self.calls.disabled[Provider.HUNTER])
        cached = await self.cache.resolution(name)
        if cached is not None:
            tab.usage.hunter.cache_hits += 1
            return cached
        resolution, paid = await self.calls._once(
            f"rs:{company_key(name)}", lambda: self._resolve(tab, directory, name)
        )
        tab.usage.hunter.cache_hits += 0 if paid else 1
        return dataclasses.replace(resolution, company_name=name)

    async def _resolve(self, tab: Tab, directory: CompanyDirectory, name: str) -> DomainResolution:
        named = await self._discover(tab, directory, name)
        resolution = decide(name, [(c.domain, c.name) for c in named], ResolutionMethod.DISCOVER)
        if resolution.status is ResolutionStatus.UNKNOWN:
            found = await self._search_by_company(tab, directory, name)
            pairs = [(found.domain, found.organization)] if found.domain and found.organization else []
            resolution = decide(name, pairs, ResolutionMethod.DOMAIN_SEARCH)
            if resolution.domain and found.search is not None:
                try:
                    domain = normalize_domain(resolution.domain)
                except DomainError:
                    domain = ""
                if domain:  # the waterfall's first Domain Search of this domain: already paid for
                    await self.results.put_domain_search(domain, PERSONAL_QUERY.key, found.search)
        await self.cache.put_resolution(resolution)
        return resolution

    async def _discover(self, tab: Tab, directory: CompanyDirectory, name: str) -> list[NamedCompany]:
        """Free (no spend gate), but rate-limited and counted as a call."""
        await self.calls._slot(DISCOVER_KEY, tab)
        return await self._counted(
            tab, Provider.HUNTER, directory.companies_named(name, deadline=tab.deadline)
        )

    async def _search_by_company(
        self, tab: Tab, directory: CompanyDirectory, name: str
    ) -> CompanyDomainSearch:
        await self.calls._slot(DOMAIN_SEARCH_KEY, tab)
        async with self.calls._billed(Provider.HUNTER, tab):
            found = await self._counted(
                tab,
                Provider.HUNTER,
                directory.domain_search_by_company(
                    name, deadline=tab.deadline, type=PERSONAL_QUERY.type, seniority=PERSONAL_QUERY.seniority
                ),
            )
            if found.search is not None:
                tab.usage.hunter.credits += found.search.credits
            return found

    # -- the company of a domain -----------------------------------------------------------------------------

    async def profile(self, tab: Tab, domain: str) -> CompanyProfile | None:
        """The company behind `domain` (None: the provider has none), from the cache while it is younger
        than the maximum age."""
        data = self.data
        if data is None:
            raise CompanyUnavailable("no company-data provider configured")
        if data.provider in self.calls.disabled:
            raise CompanyUnavailable(self.calls.disabled[data.provider])
        spent = tab.usage.of(data.provider)
        cached = await self.cache.company(domain, self.clock())
        if cached is not None:
            spent.cache_hits += 1
            return cached.profile
        profile, paid = await self.calls._once(f"co:{domain}", lambda: self._fetch(tab, data, domain))
        spent.cache_hits += 0 if paid else 1
        return profile

    async def _fetch(self, tab: Tab, data: CompanyData, domain: str) -> CompanyProfile | None:
        await self.calls._slot(data.rate_key, tab)
        async with self.calls._billed(data.provider, tab):
            answer = await self._counted(tab, data.provider, data.find(domain, deadline=tab.deadline))
            tab.usage.of(data.provider).credits += answer.credits
            # Its age on our clock, as a verification's (`PaidCalls._fetch_verification`).
            profile = answer.profile and dataclasses.replace(answer.profile, fetched_at=self.clock())
            await self.cache.put_company(domain, profile)
            return profile

    # -- counting ------------------------------------------------------------------------------------------

    async def _counted(self, tab: Tab, provider: Provider, call: Awaitable[_T]) -> _T:
        """One call on the tab; a call refused before sending is not one. Quota and a refused key switch the
        provider off for the process, as for the waterfall's calls."""
        spent = tab.usage.of(provider)
        spent.calls += 1
        try:
            return await call
        except DeadlineReached as cut:
            if not cut.sent:
                spent.calls -= 1
            raise
        except ProviderProblem as problem:
            if problem.outcome is Outcome.QUOTA_EXHAUSTED or problem.http_status == 401:
                self.calls._disable(problem)
            raise


__all__ = ["CompanySettings", "CompanySteps", "CompanyUnavailable"]
