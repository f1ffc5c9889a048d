"""The responses each route declares, for the OpenAPI document (`docs/openapi.json`): what the function
answers, and what API Gateway answers itself in front of it (`leadenrich.http_errors.GatewayError`).

Every route declares 413 and 422 (an unreadable body is refused before routing, whatever the route), 429
(API Gateway's throttle), 500 and 503 (a store or queue it depends on is out: `leadenrich.http_errors.outage`,
or Supabase failing); the keyed routes 401 and 403 (the authorizer) and their 429 also the workspace's
request rate (`RATE_OR_THROTTLE`). `GET /health` declares its own 503 (its report). A method a path does not
serve, and a path that is no route, are described in the document's description: they belong to no
operation.
"""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader

from leadenrich.http_errors import ErrorBody, GatewayError, QuotaErrorBody, RequestRateErrorBody

JSON = "application/json"
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]  # the security of every route but GET /health
# API Gateway's own answer, or the function's in the error model (one union: one order in the document).
GATEWAY_OR_FUNCTION = GatewayError | ErrorBody


def header(description: str, schema: dict[str, Any], *, required: bool = False) -> OpenAPIResponseHeader:
    """A response header (Powertools' TypedDict lacks OpenAPI's `required`; the document carries it)."""
    declared: dict[str, Any] = {"description": description, "schema": schema}
    if required:
        declared["required"] = True
    return cast(OpenAPIResponseHeader, declared)


RETRY_AFTER_SCHEMA = {"type": "integer", "minimum": 0}
RETRY_AFTER = header("seconds to wait before trying again", RETRY_AFTER_SCHEMA)


def body(
    model: Any, description: str, headers: dict[str, OpenAPIResponseHeader] | None = None
) -> OpenAPIResponse:
    """One response: a JSON body of `model` (a model, or a union of models)."""
    response: OpenAPIResponse = {"description": description, "content": {JSON: {"model": model}}}
    if headers:
        response["headers"] = headers
    return response


ERRORS: dict[int, OpenAPIResponse] = {
    401: body(
        GATEWAY_OR_FUNCTION,
        'No X-API-Key header: API Gateway answers `{"message": "Unauthorized"}` itself, before the '
        "authorizer runs (an HTTP API cannot customise this body). The function's own 401, in the error "
        "model, is for an event without the authorizer's context, which API Gateway never sends.",
    ),
    403: body(
        GatewayError,
        "The authorizer refused the key (unknown, malformed or revoked): API Gateway answers "
        '`{"message": "Forbidden"}` itself (an HTTP API cannot customise this body).',
    ),
    404: body(ErrorBody, "No such job in the workspace (another workspace's job is not found either)"),
    409: body(
        ErrorBody,
        "The job's status does not allow the change (pausing a finished job, rescheduling a started one): "
        "`field` names what could not change, the message the job's status",
    ),
    413: body(ErrorBody, "The request body is larger than 6 MB (what a Lambda invocation accepts)"),
    415: body(ErrorBody, "The request body is not JSON (Content-Type: application/json)"),
    422: body(
        ErrorBody,
        "The request cannot be served as sent: `field` names the first problem (`body.leads.3.domain`, "
        "`query.limit`, `query.cursor`, `header.idempotency-key`), `errors` every one. Also a body that is "
        "not UTF-8 or is nested too deep, on any route.",
    ),
    429: body(
        GatewayError,
        'Throttled by API Gateway (25 requests a second, bursts of 50): `{"message": "Too Many Requests"}`',
    ),
    500: body(
        GATEWAY_OR_FUNCTION,
        "Unexpected: a generic message in the error model (the details go to the log only); API Gateway's "
        '`{"message": "Internal Server Error"}` when the function or the authorizer itself failed, or was at '
        "its reserved concurrency",
    ),
    501: body(ErrorBody, "The route needs Supabase, which this deployment is not configured for"),
    503: body(
        ErrorBody,
        "A store or queue the service depends on cannot serve now (the job table or a queue throttled, "
        "unreachable, missing or failing; Supabase unreachable or refusing): not the caller's fault, retry "
        "after `Retry-After` seconds. The message says which kind of outage, never the resource's name.",
        {"Retry-After": header("seconds to wait before trying again", RETRY_AFTER_SCHEMA, required=True)},
    ),
}

EDGE = (413, 422, 429, 500, 503)  # every route (503: any route reads the table, a queue or Supabase)
KEYED = (401, 403)  # every route but GET /health
# The routes that read Supabase's leads (`LeadStoreError`): in `EDGE` now that every route may meet an outage
# of the job store; kept for the routes that list it.
STORE = (503,)


RATE = (
    "the workspace sent more requests than its rate (by default 10 a second, in bursts of 20: "
    "`WorkspaceRequestsPerSecond`, `WorkspaceRequestBurst`): `quota` is `workspace_request_rate`, retry "
    "after `Retry-After` seconds"
)
THROTTLE = (
    'API Gateway\'s throttle of the whole stage, `{"message": "Too Many Requests"}`, without `Retry-After`'
)
# A keyed route's 429: the workspace's request rate (the function, before the route runs) or the throttle.
RATE_OR_THROTTLE = body(
    RequestRateErrorBody | GatewayError, f"Either {RATE}; or {THROTTLE}", {"Retry-After": RETRY_AFTER}
)


def responses(answers: dict[int, OpenAPIResponse], *statuses: int) -> dict[int, OpenAPIResponse]:
    """The route's own answers (successes, and any error it describes its own way) over the listed error
    statuses from `ERRORS` and the ones every route has (`EDGE`). A keyed route (`KEYED` listed) is
    counted against its workspace's request rate, so its 429 is `RATE_OR_THROTTLE`."""
    declared = {status: ERRORS[status] for status in sorted({*statuses, *EDGE})}
    if set(KEYED) <= set(statuses):
        declared[429] = RATE_OR_THROTTLE
    return {**declared, **answers}


QUOTA_OR_THROTTLE = body(
    QuotaErrorBody | RequestRateErrorBody | GatewayError,
    "Either the job would pass the workspace's daily lead quota (the message says what is left; retry after "
    f"the next UTC midnight, `Retry-After`); or {RATE}; or {THROTTLE}",
    {"Retry-After": RETRY_AFTER},
)
