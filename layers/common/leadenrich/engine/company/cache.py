"""Company answers in the engine's cache (`engine.cache.CachePort`), so nobody pays twice for them.

Keys (beside `ResultCache`'s, same version prefix): `co:{domain}` a company profile, or "none found";
`rs:{company_key(name)}` a name's resolution. TTLs, and why:
- a profile: the maximum age of company data (default 90 days, seed 002; `CompanySettings.max_age`), so
  a lead enriched again after that gets a fresh one; a profile is also refused when it is older than the
  maximum age however long the cache kept it (the age may have been lowered since);
- "no company found": 7 days, like the waterfall's "nothing found" (providers' indexes grow);
- a resolved name: 30 days (companies rarely change domain within a month); an ambiguous or unknown one:
  7 days, like "nothing found".
The runtime caps every entry at the shortest cache retention of any workspace (`jobs.retention`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from leadenrich.engine.cache import DAY, CachePort
from leadenrich.engine.company.names import company_key
from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.company.resolution import DomainResolution, ResolutionStatus

_VERSION = "v1"


@dataclass(frozen=True)
class CompanyTTLs:
    not_found: float = 7 * DAY
    resolved: float = 30 * DAY
    unresolved: float = 7 * DAY


@dataclass(frozen=True)
class CachedCompany:
    """A cache hit: the profile, or None for a remembered "no company found"."""

    profile: CompanyProfile | None


class CompanyCache:
    def __init__(self, port: CachePort, max_age: timedelta, ttls: CompanyTTLs | None = None) -> None:
        self.port = port
        self.max_age = max_age
        self.ttls = ttls or CompanyTTLs()

    async def company(self, domain: str, now: datetime) -> CachedCompany | None:
        """None on a miss, and for a profile older than the maximum age (to be fetched again)."""
        raw = await self.port.get(f"{_VERSION}:co:{domain}")
        if raw is None:
            return None
        if raw.get("none") is True:
            return CachedCompany(None)
        profile = CompanyProfile.from_record(raw)
        if profile is None or profile.is_stale(now, self.max_age):
            return None
        return CachedCompany(profile)

    async def put_company(self, domain: str, profile: CompanyProfile | None) -> None:
        if profile is None:
            await self.port.put(f"{_VERSION}:co:{domain}", {"none": True}, self.ttls.not_found)
        else:
            await self.port.put(f"{_VERSION}:co:{domain}", profile.as_record(), self.max_age.total_seconds())

    async def resolution(self, name: str) -> DomainResolution | None:
        key = company_key(name)
        raw = await self.port.get(f"{_VERSION}:rs:{key}") if key else None
        if raw is None:
            return None
        found = DomainResolution.from_record(raw)
        # The lead's own spelling goes on its result; the cached decision is the key's.
        return None if found is None else _as_asked(found, name)

    async def put_resolution(self, resolution: DomainResolution) -> None:
        key = company_key(resolution.company_name)
        if not key:
            return
        resolved = resolution.status is ResolutionStatus.RESOLVED
        ttl = self.ttls.resolved if resolved else self.ttls.unresolved
        await self.port.put(f"{_VERSION}:rs:{key}", resolution.as_record(), ttl)


def _as_asked(resolution: DomainResolution, name: str) -> DomainResolution:
    return replace(resolution, company_name=name)


__all__ = ["CachedCompany", "CompanyCache", "CompanyTTLs"]
