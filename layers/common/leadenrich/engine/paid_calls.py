"""Paid provider answers, each got at most once and counted.

The waterfall decides *which* answers a lead needs; this module decides *how* to get each one cheaply and
records what it cost: the cache first, then one call shared by every concurrent asker (single flight),
then the cache again. It also switches a provider off for the process once its quota is gone or its key
is refused, and turns Hunter's 451 into a cached "opted out" answer so nobody is asked for twice.

Spend caps (`engine.budget`): the lead's `SpendGate` (`Tab.budget`) is asked right before each call that
may bill, after its rate-limit slot (the spend it reads is then as fresh as it can be), only by the caller
that makes the call: a cache hit, or a wait on someone else's single-flight call, asks nothing. After the
call the gate is told what it cost, as the tab counted it (Hunter credits, Perplexity dollars; a failed
Perplexity run is billed too). A refusal (`BudgetReached`) stops before the call; a lead waiting on a call
that another lead's gate refused makes the call itself, under its own gate.

Suppression lists (`engine.screen`) travel on the tab too (`Tab.screen`), but the waterfall's steps ask
them, before they come here: they know whose name or address a call is about, and a 451 answered here (or
read from the cache) is passed on to the lists by the step that reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.cache import ResultCache
from leadenrich.engine.models import Provider, Usage
from leadenrich.engine.ports import MIN_CALL_SECONDS, PERPLEXITY_MIN_CALL_SECONDS, HunterPort, PerplexityPort
from leadenrich.engine.providers.hunter_models import OPTED_OUT, DomainSearch, FinderResult, VerifierResult
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity_models import DecisionMakers
from leadenrich.engine.ratelimit import RateLimiter
from leadenrich.engine.screen import Screen

_T = TypeVar("_T")


@dataclass(frozen=True)
class SearchQuery:
    """The Domain Search filters; the key names the cached answer."""

    type: str
    seniority: str | None = None

    @property
    def key(self) -> str:
        return f"type={self.type}&seniority={self.seniority or ''}"


class NotAMailDomain(Exception):
    """Hunter says the domain cannot receive company mail (webmail, disposable, no mail server)."""


@dataclass(kw_only=True)
class Tab:
    """What one lead has spent so far, and by when it must stop."""

    deadline: Deadline
    usage: Usage = field(default_factory=Usage)
    verifications: int = 0  # paid verification calls made for this lead
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # a step was skipped (provider off, budget spent): "nothing found" is not final
    budget: SpendGate | None = None  # asked before each paid call (`engine.budget`); None: no cap
    screen: Screen | None = None  # suppression lists, asked by the steps before each call (`engine.screen`)


class PaidCalls:
    def __init__(
        self,
        hunter: HunterPort,
        perplexity: PerplexityPort | None,
        cache: ResultCache,
        verification_credit: float = 1.0,
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.hunter = hunter
        self.perplexity = perplexity
        self.cache = cache
        self.verification_credit = verification_credit
        self.limiter = limiter
        self.clock = clock
        # Providers switched off for this process: quota exhausted or key refused.
        self.disabled: dict[Provider, str] = {}
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    # -- the four paid answers ----------------------------------------------------------------------------

    async def domain_search(self, tab: Tab, domain: str, query: SearchQuery) -> DomainSearch:
        cached = await self.cache.domain_search(domain, query.key)
        if cached is not None:
            tab.usage.hunter.cache_hits += 1
            return cached
        search, paid = await self._once(
            f"ds:{domain}:{query.key}", lambda: self._fetch_domain_search(tab, domain, query)
        )
        tab.usage.hunter.cache_hits += 0 if paid else 1
        return search

    async def finder(self, tab: Tab, domain: str, first: str, last: str) -> FinderResult:
        """Email Finder's answer; `opted_out` set when Hunter answered 451 for this person."""
        cached = await self.cache.finder(domain, first, last)
        if cached is not None:
            tab.usage.hunter.cache_hits += 1
            return cached
        result, paid = await self._once(
            f"ef:{domain}:{first.lower()}:{last.lower()}",
            lambda: self._fetch_finder(tab, domain, first, last),
        )
        tab.usage.hunter.cache_hits += 0 if paid else 1
        return result

    async def verification(self, tab: Tab, email: str) -> VerifierResult:
        """Email Verifier's verdict; status OPTED_OUT when Hunter answered 451 for this address."""
        cached = await self.cache.verification(email)
        if cached is not None:
            tab.usage.hunter.cache_hits += 1
            return cached
        result, paid = await self._once(f"ev:{email}", lambda: self._fetch_verification(tab, email))
        tab.usage.hunter.cache_hits += 0 if paid else 1
        return result

    async def decision_makers(self, tab: Tab, domain: str, company: str | None) -> DecisionMakers | None:
        """Perplexity's answer, or None when Perplexity is off (no key, quota, key refused)."""
        perplexity = self.perplexity
        if perplexity is None or Provider.PERPLEXITY in self.disabled:
            tab.notes.append("Perplexity not available: " + self.disabled.get(Provider.PERPLEXITY, "no key"))
            tab.partial = True
            return None
        cached = await self.cache.decision_makers(domain)
        if cached is not None:
            tab.usage.perplexity.cache_hits += 1
            return cached
        try:
            answer, paid = await self._once(
                f"px:{domain}", lambda: self._fetch_decision_makers(tab, perplexity, domain, company)
            )
        except ProviderProblem as problem:
            if problem.outcome in (Outcome.QUOTA_EXHAUSTED, Outcome.PERMANENT) and problem.http_status != 400:
                self._disable(problem)
                tab.notes.append(f"Perplexity switched off: {problem.reason}")
                tab.partial = True
                return None
            raise
        tab.usage.perplexity.cache_hits += 0 if paid else 1
        return answer

    # -- the calls themselves, counted ----------------------------------------------------------------------

    async def _fetch_domain_search(self, tab: Tab, domain: str, query: SearchQuery) -> DomainSearch:
        await self._slot("hunter.domain_search", tab)
        async with self._billed(Provider.HUNTER, tab):
            try:
                search = await self._hunter_call(
                    tab,
                    self.hunter.domain_search(
                        domain, deadline=tab.deadline, type=query.type, seniority=query.seniority
                    ),
                )
            except ProviderProblem as problem:
                if problem.outcome is Outcome.PERMANENT and problem.error_id == "invalid_domain":
                    raise NotAMailDomain(f"Hunter does not accept {domain} as a domain") from problem
                raise
            tab.usage.hunter.credits += search.credits
            await self.cache.put_domain_search(domain, query.key, search)
            return search

    async def _fetch_finder(self, tab: Tab, domain: str, first: str, last: str) -> FinderResult:
        await self._slot("hunter.email_finder", tab)
        async with self._billed(Provider.HUNTER, tab):
            try:
                result = await self._hunter_call(
                    tab, self.hunter.email_finder(domain, first, last, deadline=tab.deadline)
                )
            except ProviderProblem as problem:
                if problem.outcome is Outcome.OPTED_OUT:
                    result = FinderResult(opted_out=True)  # remembered: the person is never asked for again
                elif problem.outcome is Outcome.PERMANENT and problem.error_id == "invalid_domain":
                    raise NotAMailDomain(f"{domain} has no mail server (Hunter: invalid_domain)") from problem
                elif problem.outcome is Outcome.PERMANENT and problem.http_status == 400:
                    tab.notes.append(f"Email Finder rejected the name ({problem.error_id})")
                    return FinderResult()
                else:
                    raise
            tab.usage.hunter.credits += result.credits
            await self.cache.put_finder(domain, first, last, result)
            return result

    async def _fetch_verification(self, tab: Tab, email: str) -> VerifierResult:
        await self._slot("hunter.email_verifier", tab)
        async with self._billed(Provider.HUNTER, tab):
            tab.verifications += 1
            try:
                result = await self._hunter_call(
                    tab, self.hunter.email_verifier(email, deadline=tab.deadline)
                )
            except ProviderProblem as problem:
                if problem.outcome is not Outcome.OPTED_OUT:
                    raise
                result = VerifierResult(email=email, status=OPTED_OUT)
            tab.usage.hunter.credits += result.credits(self.verification_credit)
            result = result.model_copy(update={"checked_at": self.clock()})  # cached with the verdict
            await self.cache.put_verification(email, result)
            return result

    async def _fetch_decision_makers(
        self, tab: Tab, perplexity: PerplexityPort, domain: str, company: str | None
    ) -> DecisionMakers:
        await self._slot("perplexity.responses", tab, call_seconds=PERPLEXITY_MIN_CALL_SECONDS)
        async with self._billed(Provider.PERPLEXITY, tab):
            tab.usage.perplexity.calls += 1
            try:
                answer = await perplexity.find_decision_makers(domain, company, deadline=tab.deadline)
            except DeadlineReached as cut:
                if not cut.sent:
                    tab.usage.perplexity.calls -= 1  # refused before sending: nothing was called
                raise
            except ProviderProblem as problem:
                tab.usage.perplexity.cost_usd += problem.cost_usd  # a run that ran is billed, usable or not
                raise
            tab.usage.perplexity.cost_usd += answer.cost_usd
            await self.cache.put_decision_makers(domain, answer)
            return answer

    @asynccontextmanager
    async def _billed(self, provider: Provider, tab: Tab) -> AsyncIterator[None]:
        """Around one call that may bill and the caching of its answer: the lead's gate asked first
        (BudgetReached: nothing is called), then told what the call cost, read off the tab's counters, once
        the call was sent, whether it answered or failed (a call cut at the deadline after sending counts as
        made, at what it was counted). Told after the answer is cached, so a ledger that fails then loses
        no paid answer. Rounded to 1e-9: the difference of two float sums, not a new binary fraction."""
        gate = tab.budget
        if gate is None:
            yield
            return
        await gate.allow(provider)
        spent = tab.usage.of(provider)
        calls, credits, cost_usd = spent.calls, spent.credits, spent.cost_usd
        try:
            yield
        finally:
            if spent.calls > calls:
                await gate.record(
                    provider,
                    credits=round(spent.credits - credits, 9),
                    cost_usd=round(spent.cost_usd - cost_usd, 9),
                )

    async def _slot(self, endpoint: str, tab: Tab, *, call_seconds: float = MIN_CALL_SECONDS) -> None:
        """Wait for the provider's rate limit; with no slot early enough to still make the call (the port
        refuses to send with less than `call_seconds` left), hand the work back. A slot taken too late to
        use would be one the provider allows and nobody sends: 6% of Perplexity's in the drain benchmark."""
        if self.limiter is None:
            return
        usable_until = Deadline(tab.deadline.at - call_seconds)
        if not await self.limiter.acquire(endpoint, usable_until):
            raise DeadlineReached(f"no {endpoint} slot under the rate limit before the deadline")

    async def _hunter_call(self, tab: Tab, call: Awaitable[_T]) -> _T:
        tab.usage.hunter.calls += 1
        try:
            return await call
        except DeadlineReached as cut:
            if not cut.sent:
                tab.usage.hunter.calls -= 1  # refused before sending: nothing was called
            raise
        except ProviderProblem as problem:
            # Quota and a refused key concern every call; a 403 "forbidden" concerns one endpoint only.
            if problem.outcome is Outcome.QUOTA_EXHAUSTED or problem.http_status == 401:
                self._disable(problem)
            raise

    async def _once(self, key: str, fetch: Callable[[], Awaitable[_T]]) -> tuple[_T, bool]:
        """Run `fetch` once for concurrent askers of the same paid answer; True for the one who paid.

        The cache only helps once an answer is stored; without this, ten leads of one company arriving
        together would each pay for the same search before any of them could store it.
        """
        while (pending := self._inflight.get(key)) is not None:
            try:
                return await asyncio.shield(pending), False
            except BudgetReached:
                continue  # the caller's cap, not ours: make the call under our own gate (or join the next)
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await fetch()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark it retrieved: there may be nobody else waiting
            raise
        else:
            future.set_result(value)
            return value, True
        finally:
            del self._inflight[key]

    def _disable(self, problem: ProviderProblem) -> None:
        self.disabled.setdefault(problem.provider, f"{problem.provider.value} switched off: {problem.reason}")
