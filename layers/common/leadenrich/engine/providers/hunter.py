"""Hunter.io API v2: Domain Search, Email Finder, Email Verifier, Account.

The key travels in the `X-API-KEY` header, never in the query string, so it cannot land in an access log.
Every status in providers.md §1.7 is classified here, including the 2xx codes that are not results
(202 still verifying, 222 SMTP failure): `raise_for_status()` would let those pass as success.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from leadenrich.deadline import Deadline
from leadenrich.engine.models import Provider
from leadenrich.engine.providers.http import ProviderHttp, json_body, retry_after_seconds
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


class _Lenient(BaseModel):
    """Unknown keys are ignored and nulls read as absent: Hunter adds fields and sends null freely."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _tolerant(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if value is None and field is not None and not field.is_required() and field.default is not None:
            return field.get_default(call_default_factory=True)
        if isinstance(value, float) and info.field_name in _INT_FIELDS:
            return round(value)
        return value


_INT_FIELDS = frozenset({"confidence", "score"})


class Verification(_Lenient):
    date: dt.date | None = None
    status: str | None = None


class Source(_Lenient):
    """A page Hunter saw the address on: how live the sighting is grades catch-all addresses."""

    last_seen_on: dt.date | None = None
    still_on_page: bool | None = None


def _usable_sources(value: Any) -> Any:
    """Sources that parse; one odd entry must not cost the row or the finder answer it came with."""
    if not isinstance(value, list):
        return []
    usable = []
    for entry in value:
        try:
            usable.append(Source.model_validate(entry))
        except ValidationError:
            continue
    return usable


Sources = Annotated[list[Source], BeforeValidator(_usable_sources)]


class DomainEmail(_Lenient):
    value: str
    type: str | None = None
    confidence: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    seniority: str | None = None
    department: str | None = None
    verification: Verification = Field(default_factory=Verification)
    sources: Sources = Field(default_factory=list)


class DomainSearch(_Lenient):
    domain: str
    disposable: bool = False
    webmail: bool = False
    accept_all: bool = False
    pattern: str | None = None
    organization: str | None = None
    emails: list[DomainEmail] = Field(default_factory=list)
    returned_rows: int = 0  # rows Hunter sent (and billed), usable or not

    @model_validator(mode="before")
    @classmethod
    def _keep_usable_rows(cls, data: Any) -> Any:
        """One malformed row must not throw away a paid page: it is dropped, and still counted."""
        if not isinstance(data, dict):
            return data
        raw = data.get("emails")
        rows: list[Any] = raw if isinstance(raw, list) else []
        usable = []
        for row in rows:
            try:
                usable.append(DomainEmail.model_validate(row))
            except ValidationError:
                continue
        return {**data, "emails": usable, "returned_rows": data.get("returned_rows", len(rows))}

    @property
    def credits(self) -> float:
        """Hunter bills one search credit per 1-10 addresses returned, nothing for none."""
        return float(math.ceil(self.returned_rows / 10))


# Our own marker, cached in place of a 451 answer: the person opted out, never ask for them again.
OPTED_OUT = "opted_out"


class FinderResult(_Lenient):
    opted_out: bool = False  # ours, not Hunter's: set when Hunter answered 451
    email: str | None = None
    score: int | None = None
    accept_all: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    position: str | None = None
    verification: Verification = Field(default_factory=Verification)
    sources: Sources = Field(default_factory=list)

    @property
    def credits(self) -> float:
        return 1.0 if self.email else 0.0


class VerifierResult(_Lenient):
    email: str
    status: str | None = None  # valid, invalid, accept_all, webmail, disposable, unknown
    result: str | None = None  # deprecated: deliverable, undeliverable, risky
    score: int | None = None
    accept_all: bool | None = None
    mx_records: bool | None = None
    block: bool | None = None
    sources: Sources = Field(default_factory=list)
    # Ours, not Hunter's: when the verdict came (kept with it in the cache, so a reused verdict keeps the
    # time it was given as its address's verified_at).
    checked_at: dt.datetime | None = None

    def credits(self, verification_credit: float) -> float:
        """Only decisive answers are billed (providers.md §1.10); unknown and the like are free."""
        return verification_credit if self.status in {"valid", "invalid", "accept_all"} else 0.0


class Account(_Lenient):
    plan_name: str | None = None
    reset_date: dt.date | None = None
    requests: dict[str, Any] = Field(default_factory=dict)


_M = TypeVar("_M", bound=_Lenient)


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
