"""What an item's answer says about its lead's company (docs/company-data.md): the profile a job with
`company_data` fetched (`CompanyView`), and how a name-only lead got its domain (`ResolutionView`).

Both are read from the item's stored result (`EnrichmentResult.as_record`: "company", "resolution"), the same
in every job store; a result without them (every job that did not ask, every lead that came with a domain)
shows neither field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompanyView(_View):
    domain: str
    fetched_at: str = Field(
        json_schema_extra={"format": "date-time"},
        description="when the provider answered (ISO 8601); older than the maximum age: fetched again",
    )
    name: str | None
    legal_name: str | None
    industry: str | None
    sector: str | None
    employees: str | None = Field(description="a headcount range as the provider writes it, e.g. 11-50")
    country: str | None
    country_code: str | None = Field(description="ISO 3166-1 alpha-2, when the provider gives it")
    state: str | None
    city: str | None
    description: str | None
    founded_year: int | None
    company_type: str | None
    linkedin: str | None = Field(description="the company's LinkedIn handle, e.g. company/acme-robotics")
    twitter: str | None
    technologies: list[str]
    source: str = Field(description="the company-data provider that answered (hunter)")
    completeness: int = Field(ge=0, le=100, description="how full the record is (docs/company-data.md)")

    @field_validator("fetched_at")
    @classmethod
    def _instant(cls, value: str) -> str:
        datetime.fromisoformat(value)  # as stored (`CompanyProfile.as_record`): refused if it is not one
        return value


class CandidateView(_View):
    domain: str
    name: str
    score: int = Field(ge=0, le=100)


class ResolutionView(_View):
    company_name: str = Field(description="the name the lead gave")
    status: Literal["resolved", "ambiguous", "unknown"]
    method: Literal["discover", "domain_search"] | None = Field(
        description="discover: Hunter's company list by name; domain_search: Hunter's Domain Search by name"
    )
    domain: str | None = Field(description="the domain found; null unless resolved")
    confidence: int = Field(
        ge=0, le=100, description="how well the matched company's name matches the lead's; 0 unless resolved"
    )
    matched_name: str | None
    candidates: list[CandidateView] = Field(description="an ambiguous name's rivals, best first")


def company_fields(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """`company` and `resolution` for an item's view, when its result holds them (and they read well: a
    record of another shape is left out rather than failing the listing)."""
    fields: dict[str, Any] = {}
    for name, view in (("company", CompanyView), ("resolution", ResolutionView)):
        record = (result or {}).get(name)
        if isinstance(record, dict):
            try:
                fields[name] = view.model_validate(record)
            except ValidationError:
                continue
    return fields


__all__ = ["CandidateView", "CompanyView", "ResolutionView", "company_fields"]
