"""Scripted Hunter and Perplexity behind the engine's ports: what the waterfall's unit tests run against.

`Script` holds what each provider answers and records every call made of it, so a test can pin down the
exact calls a decision costs. The fakes answer with the response models and keep the ports' contract
(engine/ports.py): a provider problem is a `ProviderProblem` classified by outcome; with too little time
left nothing is called (`DeadlineReached(sent=False)`, nothing recorded); an answer still coming at the
deadline is cut there (`DeadlineReached(sent=True)`). Which HTTP answers become which problem is the
clients' business: test_hunter_client.py and test_perplexity_client.py check over httpx.MockTransport that
the clients raise the problems scripted here, and tests/engine/simulated runs them against the simulator.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.models import Provider
from leadenrich.engine.ports import MIN_CALL_SECONDS, PERPLEXITY_MIN_CALL_SECONDS
from leadenrich.engine.providers.hunter_models import DomainSearch, FinderResult, VerifierResult
from leadenrich.engine.providers.outcomes import DeadlineReached, Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity_models import DecisionMakers, NamedPerson
from leadenrich.engine.ratelimit import RateLimiter
from leadenrich.engine.waterfall import Enricher

TODAY = date(2026, 11, 22)
RECENT = (TODAY - timedelta(days=5)).isoformat()
PERPLEXITY_COST = 0.005  # dollars, per answered run


@dataclass(frozen=True)
class Problem:
    """A provider answer that is not a result, as the client classifies it; raised afresh on every call."""

    outcome: Outcome
    http_status: int
    reason: str
    error_id: str | None = None
    retry_after: float | None = None
    cost_usd: float = 0.0

    def classified_as(self, problem: ProviderProblem) -> tuple[object, ...]:
        """What a client's problem and this scripted one must share (the reason aside: the client prefixes
        it with the endpoint), as a pair of tuples to compare."""
        keys = ("outcome", "http_status", "error_id", "retry_after", "cost_usd")
        return tuple(getattr(problem, k) for k in keys), tuple(getattr(self, k) for k in keys)

    def raised(self, provider: Provider) -> ProviderProblem:
        return ProviderProblem(
            provider,
            self.outcome,
            self.reason,
            http_status=self.http_status,
            error_id=self.error_id,
            retry_after=self.retry_after,
            cost_usd=self.cost_usd,
        )


# Hunter: the same outcome, status, error id, retry delay and reason as the client gives the HTTP answer
# named in each comment (test_hunter_client.py, "the scripted problems are the client's").
QUOTA_EXHAUSTED = Problem(  # 402 payment_required
    Outcome.QUOTA_EXHAUSTED, 402, "the plan's quota is exhausted (402)", "payment_required"
)
KEY_REFUSED = Problem(Outcome.PERMANENT, 401, "the API key was refused (401)", "unauthorized")  # 401
TOO_MANY_REQUESTS = Problem(  # 429 without quota words or Retry-After
    Outcome.THROTTLED, 429, "too many requests (429)", "too_many_requests", 2.0
)
RATE_LIMITED = Problem(  # 403 too_many_requests
    Outcome.THROTTLED, 403, "rate limit reached (403)", "too_many_requests", 2.0
)
SERVER_ERROR = Problem(Outcome.TRANSIENT, 503, "server error 503", retry_after=30.0)  # 503, no body
FORBIDDEN = Problem(  # 403 forbidden
    Outcome.PERMANENT, 403, "this key may not use this endpoint (403 forbidden)", "forbidden"
)
OPTED_OUT = Problem(  # 451 claimed_email
    Outcome.OPTED_OUT, 451, "the person asked Hunter to stop processing their data (451)", "claimed_email"
)
STILL_VERIFYING = Problem(Outcome.PENDING, 202, "verification still running (202)", retry_after=15.0)  # 202
# Perplexity (test_perplexity_client.py, "the scripted problems are the client's").
PERPLEXITY_KEY_REFUSED = Problem(Outcome.PERMANENT, 401, "the API key was refused (401)")  # 401, HTML
NOT_THE_REQUESTED_JSON = Problem(  # 200, a completed run whose output holds no text
    Outcome.TRANSIENT, 200, "the answer was not the requested JSON", retry_after=30.0
)


def row(
    email: str,
    position: str | None = "CEO",
    confidence: int = 85,
    verified: str | None = None,
    verified_on: str | None = None,
    kind: str = "personal",
    sources: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    local = email.split("@")[0]
    first, _, last = local.partition(".")
    return {
        "value": email,
        "type": kind,
        "confidence": confidence,
        "first_name": first.title() if kind == "personal" else None,
        "last_name": last.title() if kind == "personal" and last else None,
        "position": position,
        "seniority": "executive" if position else None,
        "department": "executive",
        "verification": {"date": verified_on, "status": verified},
        "sources": sources or [],
    }


def sighting(still_on_page: bool = True, days_ago: int = 10) -> dict[str, Any]:
    """One of Hunter's `sources` entries: a page that showed the address."""
    seen = (TODAY - timedelta(days=days_ago)).isoformat()
    return {"uri": "http://acme.com/team", "last_seen_on": seen, "still_on_page": still_on_page}


@dataclass(frozen=True)
class Call:
    """One call made of a port: the method and its arguments (keyword names as Hunter's parameters)."""

    method: str
    args: dict[str, str | None]


@dataclass
class Script:
    """What the scripted providers answer, and every call they received."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by domain
    generic_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pattern: dict[str, str] = field(default_factory=dict)
    accept_all: set[str] = field(default_factory=set)
    mailboxes: set[str] = field(default_factory=set)
    verdicts: dict[str, str | Problem] = field(default_factory=dict)  # email -> verifier status or problem
    finder: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # perplexity answers by domain
    search_urls: list[str] = field(default_factory=lambda: ["https://acme.com/about"])
    hunter_problem: Problem | None = None  # every Hunter call answers this
    problems: dict[str, Problem] = field(default_factory=dict)  # port method -> what it answers instead
    latency: float = 0.0  # seconds each answer takes
    log: list[Call] = field(default_factory=list)

    def calls(self, method: str) -> list[Call]:
        return [c for c in self.log if c.method == method]

    async def call(self, provider: Provider, method: str, deadline: Deadline, **args: str | None) -> None:
        """Record one call the way the ports' contract has it made, or raise what the script says instead."""
        minimum = PERPLEXITY_MIN_CALL_SECONDS if provider is Provider.PERPLEXITY else MIN_CALL_SECONDS
        seconds = deadline.timeout(math.inf, minimum=minimum)  # too little time left: not made, not recorded
        self.log.append(Call(method, args))
        if self.latency:
            try:
                async with asyncio.timeout(None if math.isinf(seconds) else seconds):
                    await asyncio.sleep(self.latency)
            except TimeoutError as exc:
                raise DeadlineReached(f"{method} cut at the deadline", sent=True) from exc
        problem = (self.hunter_problem if provider is Provider.HUNTER else None) or self.problems.get(method)
        if problem is not None:
            raise problem.raised(provider)


class ScriptedHunter:
    """The HunterPort, answering from a Script."""

    def __init__(self, script: Script) -> None:
        self.script = script

    async def domain_search(
        self, domain: str, *, deadline: Deadline, type: str, seniority: str | None
    ) -> DomainSearch:
        script = self.script
        await script.call(
            Provider.HUNTER, "domain_search", deadline, domain=domain, type=type, seniority=seniority
        )
        rows = script.generic_rows.get(domain, []) if type == "generic" else script.rows.get(domain, [])
        return DomainSearch.model_validate(
            {
                "domain": domain,
                "webmail": False,
                "disposable": False,
                "accept_all": domain in script.accept_all,
                "pattern": script.pattern.get(domain),
                "emails": rows,
            }
        )

    async def email_finder(
        self, domain: str, first_name: str, last_name: str, *, deadline: Deadline
    ) -> FinderResult:
        script = self.script
        await script.call(
            Provider.HUNTER,
            "email_finder",
            deadline,
            domain=domain,
            first_name=first_name,
            last_name=last_name,
        )
        answer = script.finder.get((first_name.lower(), last_name.lower()), {"email": None, "score": None})
        return FinderResult.model_validate(answer)

    async def email_verifier(self, email: str, *, deadline: Deadline) -> VerifierResult:
        script = self.script
        await script.call(Provider.HUNTER, "email_verifier", deadline, email=email)
        verdict = script.verdicts.get(email, "")
        if isinstance(verdict, Problem):
            raise verdict.raised(Provider.HUNTER)
        status = verdict or (
            "accept_all"
            if email.split("@")[1] in script.accept_all
            else "valid"
            if email in script.mailboxes
            else "invalid"
        )
        score = {"valid": 95, "accept_all": 60, "invalid": 5}.get(status, 0)
        return VerifierResult(email=email, status=status, score=score)


class ScriptedPerplexity:
    """The PerplexityPort, answering from a Script; a name is sourced when the search returned one of its
    URLs (the client's URL normalisation is tested with the client)."""

    def __init__(self, script: Script) -> None:
        self.script = script

    async def find_decision_makers(
        self, domain: str, company_name: str | None, *, deadline: Deadline
    ) -> DecisionMakers:
        script = self.script
        await script.call(
            Provider.PERPLEXITY, "find_decision_makers", deadline, domain=domain, company_name=company_name
        )
        people = [
            NamedPerson(
                name=p["name"],
                title=p["title"],
                source_urls=p["source_urls"],
                sourced=any(u in script.search_urls for u in p["source_urls"]),
            )
            for p in script.people.get(domain, [])
        ]
        return DecisionMakers(people=people, search_urls=list(script.search_urls), cost_usd=PERPLEXITY_COST)


def make_enricher(
    script: Script, with_perplexity: bool = True, limiter: RateLimiter | None = None
) -> Enricher:
    """An Enricher on the scripted providers."""
    return Enricher(
        ScriptedHunter(script),
        ScriptedPerplexity(script) if with_perplexity else None,
        ResultCache(InMemoryCache()),
        clock=lambda: datetime(2026, 11, 22, 12, tzinfo=UTC),
        limiter=limiter,
    )
