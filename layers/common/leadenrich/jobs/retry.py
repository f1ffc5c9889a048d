"""When to try a deferred item again: exponential backoff with full jitter, never sooner than asked.

Full jitter (a uniform draw between 0 and the exponential ceiling) spreads retries of many items that
failed together, so a provider that throttled a burst is not hit by the same burst again. A provider's own
suggestion (Retry-After, Hunter's 202 polling advice) is a floor, and so is `floor_seconds`: a draw of 0
(1 in 30 at the first attempt, once rounded to whole seconds) made the message visible at once, and the
same processor run took it again and charged a second attempt in the same second.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

from leadenrich.engine.models import EnrichmentResult, LeadStatus

MAX_VISIBILITY_DELAY = 43_200  # SQS: a message can be hidden for at most 12 hours


@dataclass
class RetryPolicy:
    base_seconds: float = 30.0
    cap_seconds: float = 900.0
    floor_seconds: float = 3.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, suggested: float | None = None) -> int:
        """Seconds to wait after the `attempt`-th charged attempt (1-based)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        jittered = self.rng.uniform(0, ceiling)
        return int(min(MAX_VISIBILITY_DELAY, max(jittered, suggested or 0.0, self.floor_seconds)))


def write_failed(result: EnrichmentResult, what: str, error: Exception) -> EnrichmentResult:
    """The result of an item whose write beside it failed (its addresses, its company data, its lead's
    record): a charged deferral, so the item runs again after a backoff (its paid answers are cached) and
    dies after max_attempts like any other failure. The reason names the error's type only: its text may
    quote the rows (addresses) it refused."""
    return dataclasses.replace(
        result,
        status=LeadStatus.DEFERRED,
        reason=f"{what} failed ({type(error).__name__}); retried",
        retry_after=None,
        attempt_consumed=True,
    )
