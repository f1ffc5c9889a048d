"""The person-enrichment port: who an address belongs to (name, title, company, profiles), from a provider.

`POST /enrich` (`buffer.person`) asks it through the global result cache, so an address is paid for once per
cache period, whichever workspace asks. The Hunter adapter is `providers.hunter_people` (Email Enrichment,
`GET /v2/people/find?email=`); a provider that does not know the address answers None, and every other
answer that is not a profile raises `providers.outcomes.ProviderProblem`, classified like the waterfall's.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from leadenrich.deadline import Deadline

PEOPLE_FIND = "hunter.people_find"  # the rate limiter's key for it (Hunter: 15 a second, 500 a minute)


class PersonProfile(BaseModel):
    """What a provider knows of one address's owner; every field may be unknown (None)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    role: str | None = None  # the department, as the provider names it (executive, sales, it...)
    seniority: str | None = None
    company_name: str | None = None
    company_domain: str | None = None
    location: str | None = None
    country_code: str | None = None
    linkedin_url: str | None = None
    twitter: str | None = None


class PersonEnrichment(Protocol):
    async def person(self, email: str, *, deadline: Deadline) -> PersonProfile | None:
        """The address's owner; None when the provider does not know them. Raises ProviderProblem."""
        ...


__all__ = ["PEOPLE_FIND", "PersonEnrichment", "PersonProfile"]
