"""How long `enrich run` waits by default: long enough for the list at the providers' paces, never a
fixed number that cuts a big list short.

The binding limit is the slowest pace among the providers (Perplexity at tier 0: one call every 1.26 s).
A lead needs at most about one call of the slowest kind on average, so the list's floor is `leads x that
interval`; the default allows three times that (retries, deferrals, 202s polled again) plus five minutes.
With `RATE_LIMITS` raised for a higher plan the default shrinks with it.
"""

from __future__ import annotations

from collections.abc import Mapping

from leadenrich.engine.ratelimit import Limit

BASE_SECONDS = 300.0
HEADROOM = 3.0


def default_timeout(leads: int, limits: Mapping[str, Limit]) -> float:
    slowest = max((limit.interval for limit in limits.values()), default=1.0)
    return BASE_SECONDS + HEADROOM * leads * slowest
