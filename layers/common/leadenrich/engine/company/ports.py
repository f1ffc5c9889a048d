"""The company ports: firmographics for a domain, and the domains behind a company name.

Typed as Protocols so another company-data provider can be plugged in beside Hunter (the adapter maps its
answer onto `CompanyProfile`), and so the steps are unit-tested on scripted fakes. The contract is the one
of `engine.ports`: an answer, or `ProviderProblem` classified by `Outcome`; with too little time left
nothing is sent (`DeadlineReached(sent=False)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from leadenrich.deadline import Deadline
from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.models import Provider
from leadenrich.engine.providers.hunter_models import DomainSearch


@dataclass(frozen=True)
class CompanyAnswer:
    """One company-data lookup: the profile, or None when the provider does not know the domain."""

    profile: CompanyProfile | None
    credits: float = 0.0  # what the provider billed for it (Hunter: only when a company was found)


class CompanyData(Protocol):
    """A company-data provider (Hunter's `/companies/find`)."""

    @property
    def provider(self) -> Provider:
        """Whose credits and rate limit the lookups spend (`Usage`, the spend gate)."""
        ...

    @property
    def rate_key(self) -> str:
        """The rate limiter's key for a lookup (`engine.ratelimit.LIMITS`)."""
        ...

    async def find(self, domain: str, *, deadline: Deadline) -> CompanyAnswer:
        """The company behind `domain`; `profile` None when the provider has none (a 404: not billed)."""
        ...


@dataclass(frozen=True)
class NamedCompany:
    domain: str
    name: str


@dataclass(frozen=True)
class CompanyDomainSearch:
    """Domain Search asked by company name: the domain Hunter chose (None when it knows no such company),
    its name for it, and the page, which the waterfall would ask for that domain next."""

    domain: str | None
    organization: str | None
    search: DomainSearch | None = None


class CompanyDirectory(Protocol):
    """Where a company name becomes domains (Hunter Discover, Domain Search `company=`)."""

    async def companies_named(self, name: str, *, deadline: Deadline) -> list[NamedCompany]:
        """The companies the provider lists under `name` (Hunter Discover: free, 5/s and 50/min)."""
        ...

    async def domain_search_by_company(
        self, name: str, *, deadline: Deadline, type: str, seniority: str | None
    ) -> CompanyDomainSearch:
        """Domain Search with `company=name` and the waterfall's filters; billed like any Domain Search."""
        ...


__all__ = ["CompanyAnswer", "CompanyData", "CompanyDirectory", "CompanyDomainSearch", "NamedCompany"]
