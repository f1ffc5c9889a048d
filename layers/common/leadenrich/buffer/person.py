"""`POST /enrich`: who an address belongs to, through the global result cache (docs/enrich.md).

Order per request: the suppression lists first (a suppressed address, or its person, is answered "not
found", and nothing is asked); then the cache (`engine.cache` port, the processor's: an answer, found or not,
serves every workspace for its period, `cached: true`, free); then the workspace's monthly credit budget
(`enrichment.WorkspaceGate`), a slot of Hunter's rate limit (`engine.people.PEOPLE_FIND`, shared with every
process), and the provider (`engine.people.PersonEnrichment`), within `SECONDS`. Hunter's 451 puts the
address on the service-wide suppression list; a found profile costs the workspace its credit in the spend
ledger, and is cached 30 days (not found: 7 days, as the waterfall's "nothing found").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import SpendGate
from leadenrich.engine.cache import DAY, CachePort
from leadenrich.engine.models import Provider
from leadenrich.engine.people import PEOPLE_FIND, PersonEnrichment, PersonProfile
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.ratelimit import RateLimiter
from leadenrich.engine.screen import Address, Screen, person_of, suppressed
from leadenrich.jobs.errors import NotConfigured, RequestRejected

log = logging.getLogger(__name__)

SECONDS = 20.0  # the provider's share of the request (API Gateway gives up at 29 s)
FOUND_TTL = 30 * DAY
NOT_FOUND_TTL = 7 * DAY
CACHE_PREFIX = "v1:pe:"
_RETRY_AFTER = {
    Outcome.THROTTLED: 2,
    Outcome.PENDING: 15,
    Outcome.TRANSIENT: 30,
    Outcome.QUOTA_EXHAUSTED: 3600,
    Outcome.PERMANENT: 3600,
}


class ProviderUnavailable(Exception):
    """The provider cannot answer now (throttled, failing, out of time, its quota spent or our key refused):
    the API answers 503 with `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class PersonAnswer:
    email: str
    profile: PersonProfile | None  # None: not found (or suppressed)
    cached: bool


def _cached(raw: dict[str, Any]) -> PersonProfile | None:
    profile = raw.get("profile")
    if not isinstance(profile, dict):
        return None
    try:
        return PersonProfile.model_validate(profile)
    except ValidationError:
        return None


class PersonLookup:
    """`people` is asked for the provider only on a cache miss (None: no provider configured); `screen` and
    `gate` make a workspace's suppression screen and spend gate; `credit` is what a found profile costs."""

    def __init__(
        self,
        cache: CachePort,
        people: Callable[[], PersonEnrichment | None],
        *,
        screen: Callable[[str], Screen] | None = None,
        gate: Callable[[str], SpendGate] | None = None,
        limiter: RateLimiter | None = None,
        credit: float = 1.0,
        seconds: float = SECONDS,
    ) -> None:
        self._cache = cache
        self._people = people
        self._screen = screen
        self._gate = gate
        self._limiter = limiter
        self.credit = credit
        self.seconds = seconds

    async def find(self, workspace_id: str, email: str) -> PersonAnswer:
        """BudgetReached when the workspace's monthly budget is spent; NotConfigured without a provider;
        RequestRejected naming `email` when the provider refuses the address; ProviderUnavailable."""
        screen = self._screen(workspace_id) if self._screen else None
        if await suppressed(screen, [Address(email)]):
            return PersonAnswer(email, None, cached=False)
        key = CACHE_PREFIX + email
        raw = await self._cache.get(key)
        if raw is not None:
            return PersonAnswer(email, await self._screened(screen, _cached(raw)), cached=True)
        people = self._people()
        if people is None:
            raise NotConfigured("POST /enrich needs a person-enrichment provider: set HUNTER_API_KEY")
        gate = self._gate(workspace_id) if self._gate else None
        if gate is not None:
            await gate.allow(Provider.HUNTER)
        profile = await self._ask(people, email, screen)
        if profile is None and screen is not None and await suppressed(screen, [Address(email)]):
            return PersonAnswer(email, None, cached=False)  # a 451 just now: on the service-wide list
        if gate is not None and profile is not None:
            await gate.record(Provider.HUNTER, credits=self.credit, cost_usd=0.0)
        value = {"found": profile is not None, "profile": profile.model_dump() if profile else None}
        await self._cache.put(key, value, FOUND_TTL if profile is not None else NOT_FOUND_TTL)
        log.info("person looked up", extra={"workspace_id": workspace_id, "found": profile is not None})
        return PersonAnswer(email, await self._screened(screen, profile), cached=False)

    async def _ask(self, people: PersonEnrichment, email: str, screen: Screen | None) -> PersonProfile | None:
        deadline = Deadline.after(self.seconds)
        try:
            if self._limiter is not None and not await self._limiter.acquire(PEOPLE_FIND, deadline):
                raise ProviderUnavailable("Hunter's rate limit is reached: retry in a moment", 1)
            return await people.person(email, deadline=deadline)
        except DeadlineReached:
            raise ProviderUnavailable("Hunter did not answer in time: retry later", 5) from None
        except ProviderProblem as problem:
            if problem.outcome is Outcome.OPTED_OUT:
                if screen is not None:
                    await screen.opted_out(address=Address(email))
                return None
            if problem.outcome is Outcome.PERMANENT and problem.http_status == 400:
                raise RequestRejected("email", "Hunter does not accept this address") from None
            log.warning(
                "person look-up failed",
                extra={"outcome": problem.outcome.value, "status": problem.http_status},
            )
            retry = max(_RETRY_AFTER[problem.outcome], int(problem.retry_after or 0))
            raise ProviderUnavailable(f"Hunter cannot answer now ({problem.outcome.value})", retry) from None

    @staticmethod
    async def _screened(screen: Screen | None, profile: PersonProfile | None) -> PersonProfile | None:
        """The profile, unless the person it names is suppressed at their company (or the address's)."""
        if profile is None or screen is None:
            return profile
        domain = profile.company_domain or profile.email.rpartition("@")[2]
        people = person_of(profile.first_name, profile.last_name, domain)
        return None if await suppressed(screen, people) else profile


__all__ = [
    "CACHE_PREFIX",
    "FOUND_TTL",
    "NOT_FOUND_TTL",
    "SECONDS",
    "PersonAnswer",
    "PersonLookup",
    "ProviderUnavailable",
]
