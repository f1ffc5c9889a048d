"""The one error body the service's HTTP functions send (the API, the webhook route), whatever the status:

    {"message": "...", "field": "body.leads.3.domain" | null, "errors": [{"field": ..., "message": ...}]}

`message` is for a person (the first problem's, without library prefixes); `field` names where the problem
is (`body...`, `query.cursor`, `header.idempotency-key`, `path...`) or is null when it is not the input's
(a job that does not exist, a store that failed); `errors` lists every problem found (at most 20), empty
when none names a field. A 429 adds `quota` (`daily_lead_quota`, or `workspace_request_rate`) and `limit`;
nothing else is ever added.

API Gateway answers some requests itself, before any function runs, with a body of its own that an HTTP API
cannot customise: `{"message": "Unauthorized"}` (401, no X-API-Key), `{"message": "Forbidden"}` (403, the
authorizer refused the key), `{"message": "Too Many Requests"}` (429, throttled) and
`{"message": "Internal Server Error"}` (500, the function or the authorizer failed): `GatewayError`.
"""

from __future__ import annotations

from collections.abc import Sequence
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


__all__ = [
    "MAX_PROBLEMS",
    "ErrorBody",
    "FieldProblem",
    "GatewayError",
    "Problem",
    "QuotaErrorBody",
    "RequestRateErrorBody",
    "error_body",
    "human",
]
