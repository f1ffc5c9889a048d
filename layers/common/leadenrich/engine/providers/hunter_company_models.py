"""Hunter's company answers as models: `/companies/find` (company enrichment) and `/discover`.

`/companies/find?domain=` answers a Clearbit-shaped company (camelCase; documented, via mirror: Hunter's
published OpenAPI as copied by api-evangelist; `name`, `domain`, `description`, `location`,
`metrics.employees` are read by Hunter's own ChatGPT app, `hunter-io/chatgpt-mcp`):

    {"data": {"name", "legalName", "domain", "description", "foundedYear", "location", "type",
              "category": {"sector", "industryGroup", "industry", "subIndustry", ...},
              "geo": {"city", "state", "stateCode", "country", "countryCode", ...},
              "metrics": {"employees": "11-50", "annualRevenue", ...},
              "linkedin": {"handle"}, "twitter": {"handle", ...}, "tech": [...], "tags": [...], ...},
     "meta": {"params": {"domain"}}}

and 404 when Hunter has no company for the domain (seen in client code). `/discover` (POST, JSON filters)
answers the companies matching them, `data` a list of `{domain, organization, emails_count}` (the mirror
puts the list under `data.results`; both are read). Every field is optional and read leniently: a provider
that adds or drops fields must not cost a paid answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Handle(_Lenient):
    handle: str | None = None


class Category(_Lenient):
    sector: str | None = None
    industry_group: str | None = Field(default=None, alias="industryGroup")
    industry: str | None = None
    sub_industry: str | None = Field(default=None, alias="subIndustry")


class Geo(_Lenient):
    city: str | None = None
    state: str | None = None
    country: str | None = None
    country_code: str | None = Field(default=None, alias="countryCode")


class Metrics(_Lenient):
    employees: str | None = None

    @field_validator("employees", mode="before")
    @classmethod
    def _range_as_text(cls, value: Any) -> Any:
        """A range ("11-50") or a count (Clearbit sends 150): kept as text, as written."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _object_or_none(value: Any) -> Any:
    return value if isinstance(value, dict) else None


class HunterCompany(_Lenient):
    """`data` of a `/companies/find` answer (the fields a sales team uses; the rest ignored)."""

    name: str | None = None
    legal_name: str | None = Field(default=None, alias="legalName")
    domain: str | None = None
    description: str | None = None
    founded_year: int | None = Field(default=None, alias="foundedYear")
    location: str | None = None
    type: str | None = None
    company_type: str | None = None
    category: Category = Field(default_factory=Category)
    geo: Geo = Field(default_factory=Geo)
    metrics: Metrics = Field(default_factory=Metrics)
    linkedin: Handle = Field(default_factory=Handle)
    twitter: Handle = Field(default_factory=Handle)
    tech: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _objects(cls, data: Any) -> Any:
        """Nested objects that are null or of another type read as empty; a non-integer year as none."""
        if not isinstance(data, dict):
            return data
        fixed = dict(data)
        for key in ("category", "geo", "metrics", "linkedin", "twitter"):
            if key in fixed and _object_or_none(fixed[key]) is None:
                del fixed[key]
        year = fixed.get("foundedYear")
        if not isinstance(year, int) or isinstance(year, bool):
            fixed.pop("foundedYear", None)
        tech = fixed.get("tech")
        fixed["tech"] = [t for t in tech if isinstance(t, str)] if isinstance(tech, list) else []
        return fixed

    @property
    def is_empty(self) -> bool:
        """A 200 that says nothing about a company (no name, no description, no category): not a find."""
        return not (self.name or self.description or self.category.industry or self.category.sector)


class DiscoveredCompany(_Lenient):
    domain: str | None = None
    organization: str | None = None


class DiscoverAnswer(_Lenient):
    companies: list[DiscoveredCompany] = Field(default_factory=list)

    @classmethod
    def of(cls, data: Any) -> DiscoverAnswer:
        """`data` as a list, or an object holding the list under `results`; entries that are not
        objects are dropped."""
        rows = data.get("results") if isinstance(data, dict) else data
        kept = [DiscoveredCompany.model_validate(r) for r in rows or [] if isinstance(r, dict)]
        return cls(companies=kept)


__all__ = ["Category", "DiscoverAnswer", "DiscoveredCompany", "Geo", "HunterCompany", "Metrics"]
