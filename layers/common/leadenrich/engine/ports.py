"""The provider ports: the calls the waterfall makes of Hunter and Perplexity, and nothing more.

The waterfall and `PaidCalls` are typed against these Protocols, not the httpx clients in `providers/`,
so the decisions can be unit-tested on scripted fakes and the engine's logic loads no HTTP library. The
clients satisfy them structurally (checked by mypy in tests/engine/test_hunter_client.py and
test_perplexity_client.py); the simulator tests run the real clients over HTTP.

The contract every implementation keeps, because `PaidCalls` and the waterfall count on it:
- an answer is a response model (`providers/hunter_models.py`, `providers/perplexity_models.py`);
- anything else raises `ProviderProblem`, classified by `Outcome` (with `retry_after` when the provider
  said how long to wait); the caller never sees an HTTP status it would have to interpret;
- with less than `MIN_CALL_SECONDS` (`PERPLEXITY_MIN_CALL_SECONDS` for an Agent run) left before the
  deadline, nothing is sent: `DeadlineReached(sent=False)`; a call still running at the deadline is cut
  there: `DeadlineReached(sent=True)` (the provider may bill it).
"""

from __future__ import annotations

from typing import Protocol

from leadenrich.deadline import Deadline
from leadenrich.engine.providers.hunter_models import DomainSearch, FinderResult, VerifierResult
from leadenrich.engine.providers.perplexity_models import DecisionMakers

# Less time than this left, and a call is not sent: it could not finish, and would only waste a request.
MIN_CALL_SECONDS = 0.5
PERPLEXITY_MIN_CALL_SECONDS = 2.0  # an Agent run needs at least this long


class HunterPort(Protocol):
    """Hunter v2's Domain Search, Email Finder and Email Verifier, as the waterfall asks them."""

    async def domain_search(
        self, domain: str, *, deadline: Deadline, type: str, seniority: str | None
    ) -> DomainSearch:
        """One page of up to 10 rows filtered by `type` (and `seniority`); billed per rows returned.

        Raises `ProviderProblem` with `error_id == "invalid_domain"` when the domain has no mail server."""
        ...

    async def email_finder(
        self, domain: str, first_name: str, last_name: str, *, deadline: Deadline
    ) -> FinderResult:
        """The person's likeliest address (`email` None when not found); `Outcome.OPTED_OUT` for a 451."""
        ...

    async def email_verifier(self, email: str, *, deadline: Deadline) -> VerifierResult:
        """Hunter's verdict on one address; `Outcome.PENDING` while it is still verifying."""
        ...


class PerplexityPort(Protocol):
    """The Agent API's web search for a company's decision-makers."""

    async def find_decision_makers(
        self, domain: str, company_name: str | None, *, deadline: Deadline
    ) -> DecisionMakers:
        """The people named, each marked `sourced` when a page the search returned supports it.

        A run that ran but gave no usable answer raises `ProviderProblem` carrying its `cost_usd`."""
        ...
