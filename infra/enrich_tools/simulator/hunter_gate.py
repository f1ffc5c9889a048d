"""Hunter's front end, what every v2 route goes through before and after its answer: authentication,
per-key throttling (403, or 429 with `Retry-After`; no `X-RateLimit-*` headers, Hunter sends none), the
quota and its charge, and injected 5xx (JSON or an HTML error page). Both throttling modes use error id
`too_many_requests` (never `forbidden`, which means a permission denial).

The quota is checked twice: early with the real cost of the answer (`quota_refusal`, before the simulated
latency), and again together with the charge (`settle`: one atomic ledger step after the latency), so
concurrent requests never spend more than the plan holds.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from enrich_tools.simulator.faults import Dice
from enrich_tools.simulator.hunter_answers import TEST_KEY
from enrich_tools.simulator.ledger import Bucket
from enrich_tools.simulator.state import SimState
from enrich_tools.simulator.wire import generation, html_response, json_response

_5XX = {
    500: ("internal_server_error", "Internal Server Error"),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Temporarily Unavailable"),
}


def error(status: int, error_id: str, details: str, headers: dict[str, str] | None = None) -> Response:
    """Hunter's error body: a list of `{id, code, details}`."""
    return json_response({"errors": [{"id": error_id, "code": status, "details": details}]}, status, headers)


def _api_key(request: Request) -> str:
    key = request.query_params.get("api_key") or request.headers.get("x-api-key") or ""
    authorization = request.headers.get("authorization", "")
    if not key and authorization.lower().startswith("bearer "):
        key = authorization[7:]
    return key.strip()


def guard(
    state: SimState, request: Request, endpoint: str, *, test_key_ok: bool
) -> tuple[str, Response | None]:
    """Authenticate and throttle; returns the key and, when refused, the answer to send."""
    config = state.config
    key = _api_key(request)
    known = key in config.hunter_api_keys or (config.accept_any_key and bool(key))
    if not key or (key == TEST_KEY and not test_key_ok) or not (known or key == TEST_KEY):
        return key, error(401, "unauthorized", "Invalid API key.")
    if endpoint == "account":
        return key, None
    rps: int = getattr(config, f"{endpoint}_rps")
    rpm: int = getattr(config, f"{endpoint}_rpm")
    wait = state.hunter_windows.admit((key, endpoint), [(rps, 1.0), (rpm, 60.0)])
    if wait is None:
        return key, None
    details = f"You have reached the rate limit of {rps} requests per second and {rpm} requests per minute."
    if config.rate_limit_mode == "403":
        return key, error(403, "too_many_requests", details)
    headers = {"Retry-After": str(max(1, math.ceil(wait)))} if config.retry_after else None
    return key, error(429, "too_many_requests", details, headers)


def _available(state: SimState, bucket: Bucket) -> float:
    return state.config.search_credits if bucket == "searches" else state.config.verification_credits


def _refusal(state: SimState, bucket: Bucket) -> Response:
    if state.config.quota_mode == "402":
        details = (
            "You have exhausted your plan's monthly request quota. Upgrade your plan or wait for the reset."
        )
        return error(402, "payment_required", details)
    return error(
        429,
        "too_many_requests",
        f"You've reached the limit for the number of {bucket} per billing period included in your plan.",
    )


def quota_refusal(
    state: SimState, bucket: Bucket, needed: float, input_key: tuple[Any, ...]
) -> Response | None:
    """Early refusal, before the simulated latency: `needed` credits are not left (duplicates are free).

    Only a fast path: concurrent requests can all pass it, so `settle` checks again when charging.
    """
    if state.config.duplicate_requests_free and state.ledger.already_charged(input_key):
        return None
    if state.ledger.used(bucket) + needed <= _available(state, bucket) + 1e-9:
        return None
    return _refusal(state, bucket)


def settle(
    state: SimState,
    request: Request,
    bucket: Bucket,
    amount: float,
    needed: float,
    input_key: tuple[Any, ...],
) -> Response | None:
    """Check the quota again and charge `amount` in one step (no `await` in between, under the ledger's
    lock); the refusal to send when used + max(amount, needed) exceeds what the plan makes available.
    `needed` is the smallest charge of the endpoint: an exhausted plan refuses even an answer that would
    have been free."""
    served = state.ledger.charge_within(
        f"hunter.{input_key[0]}",
        bucket,
        amount,
        input_key,
        available=_available(state, bucket),
        needed=needed,
        duplicates_free=state.config.duplicate_requests_free,
        generation=generation(request),
    )
    return None if served else _refusal(state, bucket)


def injected_5xx(state: SimState, dice: Dice) -> Response | None:
    if not dice.chance("5xx", state.config.share_5xx):
        return None
    status = dice.pick("5xx_status", sorted(_5XX))
    error_id, title = _5XX[status]
    if dice.chance("5xx_html", state.config.share_html_5xx):
        return html_response(status, f"{status} {title}")
    return error(status, error_id, "Something went wrong on our side. Please retry later.")
