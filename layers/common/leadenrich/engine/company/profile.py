"""A company's firmographics as the engine keeps them, and how complete they are.

`CompanyProfile` is provider-neutral: an adapter (Hunter's `/companies/find` in
`providers/hunter_company.py`, or another company-data provider) maps its answer onto these fields. It
carries `fetched_at`, so a stored or cached profile can tell its own age (`is_stale`): a profile older than
the workspace's maximum age (default 90 days, seed 002) is fetched again when its lead is enriched again.

Completeness (0-100) weights what a sales team filters and writes on (docs/company-data.md): industry and
size decide whether a company is in the target segment (20 each), the description is what a first
message is written from (15), the name and country are the minimum of a record (10 each), the LinkedIn
page is where people look the company up (10), the city, the founding year and the technologies are
nice to have (5 each). Sum: 100. An empty or blank field counts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

# field -> points; the sum is 100 (checked at import: a weight changed must keep the scale).
COMPLETENESS_WEIGHTS: Mapping[str, int] = {
    "industry": 20,
    "employees": 20,
    "description": 15,
    "name": 10,
    "country": 10,
    "linkedin": 10,
    "city": 5,
    "founded_year": 5,
    "technologies": 5,
}
assert sum(COMPLETENESS_WEIGHTS.values()) == 100

MAX_DESCRIPTION = 2000  # characters kept of a provider's description (a column, a CSV cell)
MAX_TEXT = 256
MAX_TECHNOLOGIES = 20


@dataclass(frozen=True)
class CompanyProfile:
    """What a company-data provider knows of a company, as the engine stores it (all optional but the
    domain asked for and the time it was fetched)."""

    domain: str
    fetched_at: datetime
    name: str | None = None
    legal_name: str | None = None
    industry: str | None = None
    sector: str | None = None
    employees: str | None = None  # a range as the provider writes it, e.g. "11-50"
    country: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2 when the provider gives one
    state: str | None = None
    city: str | None = None
    description: str | None = None
    founded_year: int | None = None
    company_type: str | None = None  # private, public, education...
    linkedin: str | None = None  # the provider's handle, e.g. "company/acme-robotics"
    twitter: str | None = None
    technologies: tuple[str, ...] = field(default_factory=tuple)
    source: str = "hunter"  # which provider answered (the port's name)

    @property
    def completeness(self) -> int:
        """0-100: the weights of the fields that hold something (`COMPLETENESS_WEIGHTS`)."""
        return sum(weight for name, weight in COMPLETENESS_WEIGHTS.items() if _filled(getattr(self, name)))

    def age(self, now: datetime) -> timedelta:
        return now - _utc(self.fetched_at)

    def is_stale(self, now: datetime, max_age: timedelta) -> bool:
        """Older than `max_age`: to be fetched again when its lead is next enriched (or swept)."""
        return self.age(now) > max_age

    def as_record(self) -> dict[str, Any]:
        """JSON-ready, with the completeness: what an item's result and the CSV output carry."""
        record: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "fetched_at":
                value = _utc(value).isoformat()
            elif f.name == "technologies":
                value = list(value)
            record[f.name] = value
        record["completeness"] = self.completeness
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CompanyProfile | None:
        """A profile from `as_record`'s shape (a cache entry, a stored result); None when it is not one."""
        domain, fetched = record.get("domain"), record.get("fetched_at")
        if not isinstance(domain, str) or not domain or not isinstance(fetched, str):
            return None
        try:
            fetched_at = _utc(datetime.fromisoformat(fetched))
        except ValueError:
            return None
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("domain", "fetched_at"):
                continue
            value = record.get(f.name)
            if f.name == "technologies":
                values[f.name] = tuple(str(t) for t in value) if isinstance(value, list) else ()
            elif f.name == "founded_year":
                values[f.name] = value if isinstance(value, int) and not isinstance(value, bool) else None
            elif f.name == "source":
                values[f.name] = value if isinstance(value, str) and value else "hunter"
            else:
                values[f.name] = value if isinstance(value, str) and value.strip() else None
        return cls(domain=domain, fetched_at=fetched_at, **values)


def clean_text(value: object, limit: int = MAX_TEXT) -> str | None:
    """A provider's text field as kept: stripped, at most `limit` characters, None when empty."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:limit] or None


def _filled(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, tuple):
        return bool(value)
    return value is not None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "COMPLETENESS_WEIGHTS",
    "MAX_DESCRIPTION",
    "MAX_TECHNOLOGIES",
    "CompanyProfile",
    "clean_text",
    "utc_now",
]
