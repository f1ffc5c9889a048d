"""The cache port: paid answers are kept so the same domain or address never costs twice within a TTL.

The port stores JSON objects under string keys with a time to live, which any key-value store can hold
(the runtime adds a DynamoDB adapter with its native TTL). `ResultCache` gives the engine typed access and
owns the key scheme and the TTLs.

TTLs, and why:
- domain search 14 days: company staff lists change slowly, and Hunter itself refreshes rows monthly;
- email finder 30 days and verification 30 days: Hunter shows a verification as current for about a
  month (providers.md §1.2), so a younger answer of ours is as good as a new paid one;
- "unknown"/inconclusive verifications 5 minutes: the help centre advises retrying after a few minutes,
  and the waterfall defers such a lead for 10, so the retry must find the entry gone;
- Perplexity answers 30 days: who runs a company rarely changes within a month;
- "nothing found" 7 days: new hires and Hunter's growing index make a retry after a week worthwhile;
- "pattern bounced" 30 days: a guess from the domain's pattern hard-bounced for some workspace (its sending
  tool's webhook, docs/bounces.md): the domain's next guesses are verified, not trusted, for as long as a
  verification of ours is trusted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from leadenrich.engine.providers.hunter_models import DomainSearch, FinderResult, VerifierResult
from leadenrich.engine.providers.perplexity_models import DecisionMakers

DAY = 86_400.0


class CachePort(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None: ...


class InMemoryCache:
    """Process-local adapter: for the command line, tests, and a warm Lambda between invocations."""

    def __init__(self, clock: Callable[[], float] = time.time, max_entries: int = 50_000) -> None:
        self._clock = clock
        self._max = max_entries
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        expires, value = hit
        if expires <= self._clock():
            del self._items[key]
            return None
        return value

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        if len(self._items) >= self._max:
            self._items.pop(next(iter(self._items)))  # oldest insertion first: bounded memory
        self._items[key] = (self._clock() + ttl_seconds, value)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class CacheTTLs:
    domain_search: float = 14 * DAY
    finder: float = 30 * DAY
    verification: float = 30 * DAY
    inconclusive_verification: float = 300.0
    perplexity: float = 30 * DAY
    nothing_found: float = 7 * DAY
    pattern_bounced: float = 30 * DAY


_M = TypeVar("_M", bound=BaseModel)
_VERSION = "v1"  # bump when a cached shape changes, so old entries are ignored instead of misread


class ResultCache:
    def __init__(self, port: CachePort, ttls: CacheTTLs | None = None) -> None:
        self.port = port
        self.ttls = ttls or CacheTTLs()

    async def _get(self, key: str, model: type[_M]) -> _M | None:
        raw = await self.port.get(f"{_VERSION}:{key}")
        if raw is None:
            return None
        try:
            return model.model_validate(raw)
        except ValueError:
            return None

    async def _put(self, key: str, value: BaseModel, ttl: float) -> None:
        await self.port.put(f"{_VERSION}:{key}", value.model_dump(mode="json"), ttl)

    async def domain_search(self, domain: str, query: str) -> DomainSearch | None:
        return await self._get(f"ds:{domain}:{query}", DomainSearch)

    async def put_domain_search(self, domain: str, query: str, value: DomainSearch) -> None:
        await self._put(f"ds:{domain}:{query}", value, self.ttls.domain_search)

    async def finder(self, domain: str, first: str, last: str) -> FinderResult | None:
        return await self._get(f"ef:{domain}:{first.lower()}:{last.lower()}", FinderResult)

    async def put_finder(self, domain: str, first: str, last: str, value: FinderResult) -> None:
        await self._put(f"ef:{domain}:{first.lower()}:{last.lower()}", value, self.ttls.finder)

    async def verification(self, email: str) -> VerifierResult | None:
        return await self._get(f"ev:{email.lower()}", VerifierResult)

    async def put_verification(self, email: str, value: VerifierResult) -> None:
        decisive = value.status in {"valid", "invalid", "accept_all", "webmail", "disposable", "opted_out"}
        ttl = self.ttls.verification if decisive else self.ttls.inconclusive_verification
        await self._put(f"ev:{email.lower()}", value, ttl)

    async def decision_makers(self, domain: str) -> DecisionMakers | None:
        return await self._get(f"px:{domain}", DecisionMakers)

    async def put_decision_makers(self, domain: str, value: DecisionMakers) -> None:
        await self._put(f"px:{domain}", value, self.ttls.perplexity)

    async def nothing_found(self, domain: str, person: str) -> bool:
        return await self.port.get(f"{_VERSION}:nf:{domain}:{person}") is not None

    async def put_nothing_found(self, domain: str, person: str, reason: str) -> None:
        await self.port.put(f"{_VERSION}:nf:{domain}:{person}", {"reason": reason}, self.ttls.nothing_found)

    async def pattern_bounced(self, domain: str) -> bool:
        """Whether an address guessed from the domain's pattern bounced lately (`put_pattern_bounced`)."""
        return await self.port.get(f"{_VERSION}:pb:{domain}") is not None

    async def put_pattern_bounced(self, domain: str) -> None:
        """A guess of ours at the domain hard-bounced: its pattern is doubted (a fact about the domain, no
        address: `leadenrich.bounces.service`)."""
        await self.port.put(f"{_VERSION}:pb:{domain}", {"bounced": True}, self.ttls.pattern_bounced)
