"""A scripted company-data provider behind the company ports (`engine.company.ports`), recording its calls in
the same `Script` log as the scripted Hunter, so a test pins down every call a company decision costs.

What it answers: `profiles` by domain (`/companies/find`), `listed` by lower-case name (Discover), and
`by_company` (Domain Search with `company=`, whose rows are the script's rows for the domain it answers).
`Script.problems["companies_find" | "discover" | "domain_search_company"]` makes a call raise instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.company.ports import (
    CompanyAnswer,
    CompanyData,
    CompanyDirectory,
    CompanyDomainSearch,
    NamedCompany,
)
from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.company.steps import CompanySettings
from leadenrich.engine.models import Provider
from leadenrich.engine.providers.hunter_models import DomainSearch
from leadenrich.engine.waterfall import Enricher
from tests.support.scripted_providers import Script, ScriptedHunter, ScriptedPerplexity

NOON = datetime(2026, 11, 22, 12, tzinfo=UTC)

FULL = {
    "name": "Acme Robotics Inc.",
    "industry": "Machinery",
    "sector": "Industrials",
    "employees": "11-50",
    "country": "United States",
    "country_code": "US",
    "city": "Boston",
    "description": "Acme Robotics builds warehouse robots.",
    "founded_year": 2014,
    "linkedin": "company/acme-robotics",
    "technologies": ("HubSpot", "Slack"),
}


@dataclass
class ScriptedCompanies:
    """`CompanyData` and `CompanyDirectory` on a Script."""

    script: Script
    credit: float = 1.0
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    by_company: dict[str, tuple[str, str]] = field(default_factory=dict)
    provider: Provider = Provider.HUNTER
    rate_key: str = "hunter.companies_find"

    async def find(self, domain: str, *, deadline: Deadline) -> CompanyAnswer:
        await self.script.call(Provider.HUNTER, "companies_find", deadline, domain=domain)
        fields = self.profiles.get(domain)
        if fields is None:
            return CompanyAnswer(None)
        profile = CompanyProfile(domain=domain, fetched_at=datetime(2000, 1, 1, tzinfo=UTC), **fields)
        return CompanyAnswer(profile, credits=self.credit)

    async def companies_named(self, name: str, *, deadline: Deadline) -> list[NamedCompany]:
        await self.script.call(Provider.HUNTER, "discover", deadline, name=name)
        return [NamedCompany(d, n) for d, n in self.listed.get(name.lower(), [])]

    async def domain_search_by_company(
        self, name: str, *, deadline: Deadline, type: str, seniority: str | None
    ) -> CompanyDomainSearch:
        await self.script.call(
            Provider.HUNTER, "domain_search_company", deadline, company=name, type=type, seniority=seniority
        )
        found = self.by_company.get(name.lower())
        if found is None:
            return CompanyDomainSearch(None, None)
        domain, organization = found
        rows = self.script.rows.get(domain, [])
        search = DomainSearch.model_validate(
            {
                "domain": domain,
                "organization": organization,
                "pattern": self.script.pattern.get(domain),
                "accept_all": domain in self.script.accept_all,
                "emails": rows,
            }
        )
        return CompanyDomainSearch(domain, organization, search)


def ports(companies: ScriptedCompanies) -> tuple[CompanyData, CompanyDirectory]:
    """mypy checks the fake against both ports here."""
    return companies, companies


class Clock:
    """The engine's clock, moved by the test."""

    def __init__(self, now: datetime = NOON) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_company_enricher(
    script: Script,
    companies: ScriptedCompanies,
    *,
    clock: Callable[[], datetime] | None = None,
    cache: ResultCache | None = None,
    settings: CompanySettings | None = None,
) -> Enricher:
    """An Enricher on the scripted providers, its company ports on `companies`."""
    return Enricher(
        ScriptedHunter(script),
        ScriptedPerplexity(script),
        cache or ResultCache(InMemoryCache()),
        clock=clock or Clock(),
        companies=companies,
        directory=companies,
        company_settings=settings,
    )
