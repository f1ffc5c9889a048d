"""How a provider answer that is not a result is classified.

A client method returns its parsed result or raises `ProviderProblem`; the kind tells the caller what to
do next, so no caller ever inspects HTTP status codes itself.
"""

from __future__ import annotations

from enum import StrEnum

from leadenrich.engine.models import Provider


class Outcome(StrEnum):
    PENDING = "pending"  # accepted but not finished (Hunter 202): ask again later, never busy-wait
    TRANSIENT = "transient"  # timeout, 5xx, 222, malformed body: retry after a delay
    THROTTLED = "throttled"  # rate limit (Hunter 403/429 short-term, Perplexity 429): back off
    QUOTA_EXHAUSTED = "quota_exhausted"  # plan quota used up (402, quota 429): stop calling this provider
    PERMANENT = "permanent"  # bad input or bad credentials: do not retry the same request
    OPTED_OUT = "opted_out"  # Hunter 451: the person opted out; never store the address


class ProviderProblem(Exception):
    """A provider answer that is not a usable result."""

    def __init__(
        self,
        provider: Provider,
        outcome: Outcome,
        reason: str,
        *,
        http_status: int | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
        cost_usd: float = 0.0,
    ) -> None:
        super().__init__(f"{provider.value}: {outcome.value}: {reason}")
        self.provider = provider
        self.outcome = outcome
        self.reason = reason
        self.http_status = http_status
        self.error_id = error_id
        self.retry_after = retry_after
        self.cost_usd = cost_usd  # what a failed run still cost (a Perplexity run is billed when it ran)

    @property
    def is_auth(self) -> bool:
        return self.http_status in (401, 403) and self.outcome is Outcome.PERMANENT


class DeadlineReached(Exception):
    """Our time budget, not the provider, stopped the work: it is handed back without charging an attempt.

    `sent` is False when the call was refused before sending (nothing to count), True when a call in
    flight was cut at the deadline (it counts as a call: the provider may even bill it).
    """

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent
