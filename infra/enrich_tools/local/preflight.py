"""Before a run spends anything: is the Hunter key accepted, and is there quota left?

Hunter's `GET /account` is free (it costs no credit and no search) and answers both: a refused key is a
401, and `requests.searches` / `requests.verifications` (and `credits` on unified plans) say what the
plan has used of what it allows. A run whose every lead would fail is stopped here, with a message saying
which key and what to do, instead of failing lead by lead.

Perplexity has no free call that checks a key, so its key is judged by its first answer: the engine
switches a provider off for the process when it refuses the key or the quota ("... switched off: ..."
in the leads' reasons), and `enrich run` stops at the first such reason (`switched_off`).

A check that gets no HTTP answer at all (refused connection, DNS, timeout), three times a second apart,
stops the run too: a wrong HUNTER_API_BASE_URL would otherwise defer every lead until the timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Literal

from leadenrich.deadline import Deadline
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem
from leadenrich.engine.settings import EngineSettings

CHECK_SECONDS = 15.0
UNREACHABLE_TRIES = 3  # a check that gets no answer at all is tried again before the run is refused
UNREACHABLE_PAUSE_SECONDS = 1.0
SWITCHED_OFF = "switched off"


def _left(bucket: Any) -> float | None:
    if not isinstance(bucket, Mapping):
        return None
    try:
        return float(bucket["available"]) - float(bucket["used"])
    except (KeyError, TypeError, ValueError):
        return None


Bucket = Literal["searches", "verifications"]


def quota_problem(requests: Mapping[str, Any], needs: Bucket = "searches") -> str | None:
    """Why no lead can be searched (`enrich verify`: no address verified) with this plan's quota, or None.
    Searches are what every lead needs first, verifications all an address needs; a unified plan's
    shared `credits` pool counts instead when present."""
    shared = _left(requests.get("credits"))
    left = shared if shared is not None else _left(requests.get(needs))
    if left is not None and left <= 0:
        kind = "search" if needs == "searches" else "verification"
        return f"the Hunter plan has no {kind} credits left this month (see hunter.io's billing page)"
    return None


async def _check_hunter(settings: EngineSettings, needs: Bucket) -> str | None:
    key = settings.hunter_api_key
    if key is None:
        return "HUNTER_API_KEY is not set"
    client = HunterClient(key.get_secret_value(), base_url=settings.hunter_api_base_url)
    try:
        for attempt in range(UNREACHABLE_TRIES):
            try:
                account = await client.account(deadline=Deadline.after(CHECK_SECONDS))
                break
            except ProviderProblem as problem:
                if problem.outcome is Outcome.PERMANENT:
                    return (
                        f"Hunter refused HUNTER_API_KEY ({problem.reason}): check the key on hunter.io's "
                        "API page"
                    )
                if problem.outcome is Outcome.QUOTA_EXHAUSTED:
                    return f"Hunter says the plan's quota is used up ({problem.reason})"
                if problem.http_status is not None:
                    return None  # throttled or failing right now: the run's own retries deal with that
                if attempt == UNREACHABLE_TRIES - 1:  # no answer at all, three times: a wrong URL
                    return (
                        f"Hunter cannot be reached at {settings.hunter_api_base_url} ({problem.reason}): "
                        "check HUNTER_API_BASE_URL and the network"
                    )
                await asyncio.sleep(UNREACHABLE_PAUSE_SECONDS)
    finally:
        await close_shared_http_client()
    return quota_problem(account.requests, needs)


def check_providers(settings: EngineSettings, needs: Bucket = "searches") -> str | None:
    """What stops a run before it starts (a refused key, a spent quota), or None when it may go."""
    return asyncio.run(_check_hunter(settings, needs))


def switched_off(reason: str | None) -> bool:
    """Whether a lead's reason says the engine switched a provider off (refused key, spent quota)."""
    return bool(reason) and SWITCHED_OFF in str(reason)


__all__ = ["check_providers", "quota_problem", "switched_off"]
