"""The one error body the service's HTTP functions send (the API, the webhook route), whatever the status:

    {"message": "...", "field": "body.leads.3.domain" | null, "errors": [{"field": ..., "message": ...}]}

`message` is for a person (the first problem's, without library prefixes); `field` names where the problem
is (`body...`, `query.cursor`, `header.idempotency-key`, `path...`) or is null when it is not the input's
(a job that does not exist, a store that failed); `errors` lists every problem found (at most 20), empty
when none names a field. A 429 adds `quota` (`daily_lead_quota`, or `workspace_request_rate`) and `limit`;
nothing else is ever added, but to `GET /health`'s 503, which is its report with these three fields too.

A store or queue that cannot serve now (throttled, unreachable, missing, failing: `outage`) is a 503 with
`Retry-After`, never a 500: it is not the caller's fault, and the same request may succeed a moment later.

API Gateway answers some requests itself, before any function runs, with a body of its own that an HTTP API
cannot customise: `{"message": "Unauthorized"}` (401, no X-API-Key), `{"message": "Forbidden"}` (403, the
authorizer refused the key), `{"message": "Too Many Requests"}` (429, throttled) and
`{"message": "Internal Server Error"}` (500, the function or the authorizer failed): `GatewayError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

MAX_PROBLEMS = 20

# What pydantic puts before the message of a ValueError / AssertionError raised in a validator.
_LIBRARY_PREFIXES = ("Value error, ", "Assertion failed, ")


class Problem(TypedDict):
    field: str
    message: str


class FieldProblem(BaseModel):
    """One problem with the request, named by where it is."""

    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx and 5xx body (the model, for documents and clients)."""

    model_config = ConfigDict(extra="allow")  # a 429 adds `quota` and `limit`

    message: str
    field: str | None
    errors: list[FieldProblem]


class QuotaErrorBody(ErrorBody):
    """The 429 of a job that would pass the workspace's daily lead quota."""

    model_config = ConfigDict(extra="forbid")

    quota: Literal["daily_lead_quota"]
    limit: int = Field(description="leads a day")


class RequestRateErrorBody(ErrorBody):
    """The 429 of a request past its workspace's request rate (`Retry-After` says when to send again)."""

    model_config = ConfigDict(extra="forbid")

    quota: Literal["workspace_request_rate"]
    limit: float = Field(description="requests a second (a workspace's bucket refills at this rate)")


class GatewayError(BaseModel):
    """A refusal API Gateway sends itself (HTTP APIs cannot change its body); the local gateway sends the
    same bytes."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(description="Unauthorized | Forbidden | Too Many Requests | Internal Server Error")


def human(message: str) -> str:
    """A validator's message as a person reads it: pydantic's "Value error, " prefix removed."""
    for prefix in _LIBRARY_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def error_body(
    message: str, field: str | None = None, errors: Sequence[Problem] | None = None
) -> dict[str, object]:
    """The body; without `errors`, a named `field` is its one problem."""
    if errors is None:
        errors = [Problem(field=field, message=message)] if field is not None else []
    return {"message": message, "field": field, "errors": list(errors[:MAX_PROBLEMS])}


# --- outages: a store or queue that cannot serve now (the API answers 503 with Retry-After, not 500) ------

Outage = Literal["throttled", "unreachable", "missing", "failing"]
OUTAGE_RETRY_AFTER_SECONDS = 5

# botocore's error codes (DynamoDB, SQS, Secrets Manager, S3) by what they mean. Named, not imported: only
# `leadenrich.aws` imports botocore (tests/test_import_rules.py), and the adapters let these through as
# botocore raised them. A missing table or queue is an outage of the deployment, never the caller's fault.
_CODES: Mapping[str, Outage] = {
    **dict.fromkeys(
        (
            "ThrottlingException",
            "Throttling",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "RequestThrottled",
            "TooManyRequestsException",
            "SlowDown",
        ),
        "throttled",
    ),
    **dict.fromkeys(
        (
            "ResourceNotFoundException",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "NoSuchBucket",
        ),
        "missing",
    ),
    **dict.fromkeys(
        (
            "InternalServerError",
            "InternalFailure",
            "InternalError",
            "ServiceUnavailable",
            "ServiceUnavailableException",
            "RequestTimeout",
            "RequestTimeoutException",
        ),
        "failing",
    ),
}
# Transport errors, by (module, class) anywhere in the exception's classes: botocore's connection and HTTP
# client errors (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError...), httpx's.
_TRANSPORT = frozenset(
    {
        ("botocore.exceptions", "ConnectionError"),
        ("botocore.exceptions", "HTTPClientError"),
        ("httpx", "TransportError"),
    }
)


def error_code(exc: BaseException) -> str | None:
    """A botocore ClientError's code (`ResourceNotFoundException`...), read from its `response`."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return str(code) if code else None


def outage(exc: BaseException) -> Outage | None:
    """What makes `exc` an outage of a store or queue the service depends on (throttled, unreachable, missing
    or failing), or None when it is not one (a bug, a refused request: those stay 500s). Why by duck typing:
    the API sees what the adapters raise, and only `leadenrich.aws` may name botocore's classes."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # a ClientError: the service answered
        known = _CODES.get(error_code(exc) or "")
        if known is not None:
            return known
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return "failing" if isinstance(status, int) and status >= 500 else None
    if any((c.__module__, c.__name__) in _TRANSPORT for c in type(exc).__mro__):
        return "unreachable"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "unreachable"
    return None


__all__ = [
    "MAX_PROBLEMS",
    "OUTAGE_RETRY_AFTER_SECONDS",
    "ErrorBody",
    "FieldProblem",
    "GatewayError",
    "Outage",
    "Problem",
    "QuotaErrorBody",
    "RequestRateErrorBody",
    "error_body",
    "error_code",
    "human",
    "outage",
]
