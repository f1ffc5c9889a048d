"""Hunter.io API v2 over HTTP: Domain Search, Email Finder, Email Verifier, Account.

The answers' models are in `hunter_models.py`; this module sends the requests and classifies the answers.
The key travels in the `X-API-KEY` header, never in the query string, so it cannot land in an access log.
Every status in providers.md §1.7 is classified here, including the 2xx codes that are not results
(202 still verifying, 222 SMTP failure): `raise_for_status()` would let those pass as success.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from leadenrich.deadline import Deadline
from leadenrich.engine.models import Provider
from leadenrich.engine.providers.http import ProviderHttp, json_body, retry_after_seconds
from leadenrich.engine.providers.hunter_models import Account, DomainSearch, FinderResult, VerifierResult
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem

DEFAULT_BASE_URL = "https://api.hunter.io/v2"

# Hunter works on a verification for up to ~20 s before answering 202, so the verifier needs a long read
# timeout; searches answer in a second or two.
SEARCH_TIMEOUT = 15.0
VERIFIER_TIMEOUT = 30.0
# Delays suggested to the caller when Hunter gives none (providers.md §1.9).
PENDING_RETRY_AFTER = 15.0
SMTP_FAILURE_RETRY_AFTER = 180.0
THROTTLE_RETRY_AFTER = 2.0
SERVER_ERROR_RETRY_AFTER = 30.0

_QUOTA_WORDS = ("billing period", "quota", "monthly", "plan", "credits")

_M = TypeVar("_M", bound=BaseModel)


class HunterClient(ProviderHttp):
    provider = Provider.HUNTER
    key_variable = "HUNTER_API_KEY"

    def __init__(
        self, api_key: str, *, base_url: str = DEFAULT_BASE_URL, http: httpx.AsyncClient | None = None
    ) -> None:
        super().__init__(api_key, base_url=base_url, http=http)

    async def domain_search(
        self,
        domain: str,
        *,
        deadline: Deadline,
        type: str | None = None,
        seniority: str | None = None,
        department: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> DomainSearch:
        params: dict[str, str | int] = {"domain": domain, "limit": limit, "offset": offset}
        for name, value in (("type", type), ("seniority", seniority), ("department", department)):
            if value:
                params[name] = value
        return await self._get("/domain-search", params, DomainSearch, deadline, SEARCH_TIMEOUT)

    async def email_finder(
        self, domain: str, first_name: str, last_name: str, *, deadline: Deadline, max_duration: int = 10
    ) -> FinderResult:
        params: dict[str, str | int] = {"domain": domain, "first_name": first_name, "last_name": last_name}
        # Hunter may refine for up to max_duration seconds: never let it run past our deadline.
        duration = max(3, int(min(float(max_duration), deadline.remaining() - 2)))
        params["max_duration"] = duration
        return await self._get("/email-finder", params, FinderResult, deadline, duration + 5.0)

    async def email_verifier(self, email: str, *, deadline: Deadline) -> VerifierResult:
        return await self._get(
            "/email-verifier", {"email": email}, VerifierResult, deadline, VERIFIER_TIMEOUT
        )

    async def account(self, *, deadline: Deadline) -> Account:
        return await self._get("/account", {}, Account, deadline, SEARCH_TIMEOUT)

    async def _get(
        self, path: str, params: dict[str, str | int], model: type[_M], deadline: Deadline, cap: float
    ) -> _M:
        response = await self._send(
            "GET",
            path,
            deadline=deadline,
            cap=cap,
            params=params,
            headers={"X-API-KEY": self._key, "Accept": "application/json"},
        )
        data = classify_hunter_response(response, path)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ProviderProblem(
                Provider.HUNTER,
                Outcome.TRANSIENT,
                f"{path} answered a body of an unexpected shape",
                http_status=response.status_code,
            ) from exc


def classify_hunter_response(response: httpx.Response, path: str) -> dict[str, Any]:
    """The `data` object of a usable answer; every other answer raises a classified ProviderProblem."""
    status = response.status_code
    body = json_body(response)
    error = _first_error(body)
    error_id = str(error.get("id")) if error and error.get("id") else None
    details = str(error.get("details", "")) if error else ""
    waited = retry_after_seconds(response)

    def problem(outcome: Outcome, reason: str, retry_after: float | None = None) -> ProviderProblem:
        return ProviderProblem(
            Provider.HUNTER,
            outcome,
            f"{path}: {reason}",
            http_status=status,
            error_id=error_id,
            retry_after=retry_after,
        )

    if status == 200:
        if body is None:
            raise problem(Outcome.TRANSIENT, "200 with a body that is not JSON", SERVER_ERROR_RETRY_AFTER)
        data = body.get("data")
        if not isinstance(data, dict):
            if error:
                raise problem(
                    Outcome.TRANSIENT, f"200 carrying an error: {error_id}", SERVER_ERROR_RETRY_AFTER
                )
            raise problem(Outcome.TRANSIENT, "200 without a data object", SERVER_ERROR_RETRY_AFTER)
        return data
    if status == 202:
        raise problem(Outcome.PENDING, "verification still running (202)", waited or PENDING_RETRY_AFTER)
    if status == 222:
        raise problem(
            Outcome.TRANSIENT,
            "the mail server answered unexpectedly (222)",
            waited or SMTP_FAILURE_RETRY_AFTER,
        )
    if 200 < status < 300:
        raise problem(Outcome.TRANSIENT, f"unexpected {status}", SERVER_ERROR_RETRY_AFTER)
    if status == 400:
        raise problem(Outcome.PERMANENT, f"rejected parameters ({error_id or 'bad request'}): {details}")
    if status == 401:
        raise problem(Outcome.PERMANENT, "the API key was refused (401)")
    if status == 402:
        raise problem(Outcome.QUOTA_EXHAUSTED, "the plan's quota is exhausted (402)")
    if status == 403:
        if error_id == "forbidden":
            raise problem(Outcome.PERMANENT, "this key may not use this endpoint (403 forbidden)")
        raise problem(Outcome.THROTTLED, "rate limit reached (403)", waited or THROTTLE_RETRY_AFTER)
    if status == 429:
        # Documented as the monthly quota, observed as a short-term throttle: a Retry-After header or a
        # message without quota words means "slow down"; quota words mean "stop until the reset date".
        if waited is None and any(word in details.lower() for word in _QUOTA_WORDS):
            raise problem(Outcome.QUOTA_EXHAUSTED, "usage limit for the billing period reached (429)")
        raise problem(Outcome.THROTTLED, "too many requests (429)", waited or THROTTLE_RETRY_AFTER)
    if status == 451:
        raise problem(Outcome.OPTED_OUT, "the person asked Hunter to stop processing their data (451)")
    if status >= 500:
        raise problem(Outcome.TRANSIENT, f"server error {status}", waited or SERVER_ERROR_RETRY_AFTER)
    raise problem(Outcome.PERMANENT, f"unexpected status {status}")


def _first_error(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if not body:
        return None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return None
