"""The API Lambda's resolver: Powertools with validation, the OpenAPI settings, and one error handler per
exception, each answering the one error model `{"message", "field", "errors": [{"field", "message"}]}`
(`leadenrich.http_errors`): validation (422), bad cursors (422), an unknown job (404, `JobNotFound`) or route
(404), a known route with another method (405, with `Allow`), no authorizer context (401), the workspace's
request rate and the daily quota (429, with `Retry-After`), Supabase not configured (501) or failing (503),
a store or queue out (throttled, unreachable, missing, failing: 503 with `Retry-After`), and anything
unexpected (500, a generic message; the details go to the log only). The request rate is taken
by the one middleware, before every route; the audit trail's (`api_audit`) records what a route did, after
it. The routes are in `api_routes`."""

from __future__ import annotations

import json
import re
from functools import cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from api_audit import record_audit
from api_context import Unauthorized, admit, error
from api_routes.console import router as console_router
from leadenrich.auth.quota import QuotaExceeded
from leadenrich.auth.request_rate import RequestRateExceeded
from leadenrich.http_errors import OUTAGE_RETRY_AFTER_SECONDS, Problem, error_code, human, outage
from leadenrich.jobs.encoding import BadCursor
from leadenrich.jobs.errors import JobStateConflict
from leadenrich.jobs.ports import LeadStoreError
from leadenrich.jobs.service import JobNotFound, NotConfigured, RequestRejected
from leadenrich.lambda_logging import route_package_logs

DESCRIPTION = """\
Lead enrichment jobs. Every route but `GET /health` and `POST /webhooks/{provider}` needs an `X-API-Key`.

Errors: the function answers every 4xx and 5xx with one body, `{"message", "field", "errors": [{"field", \
"message"}]}`: `field` names where the problem is (`body.leads.3.domain`, `query.cursor`, \
`header.idempotency-key`) or is null. API Gateway answers some requests itself, before the function runs, \
with bodies an HTTP API cannot customise: `{"message": "Unauthorized"}` (401, no key), \
`{"message": "Forbidden"}` (403, key refused), `{"message": "Too Many Requests"}` (429, throttled), \
`{"message": "Internal Server Error"}` (500, the function or the authorizer failed, or was at its reserved \
concurrency), and \
`{"message": "Not Found"}` (404) for a method or path that is no route. The function itself (and the local \
gateway, which sends every request to it) answers a path that is no route 404 and a method a path does not \
serve 405 with `Allow`, both in the error model.

Fair use: each workspace has its own request rate on the keyed routes (by default 10 requests a second, \
in bursts of up to 20: the deployment's `WorkspaceRequestsPerSecond` and `WorkspaceRequestBurst`); past it \
the function answers 429 in the error model, `"quota": "workspace_request_rate"`, with `Retry-After`. \
`GET /health` is not counted.
"""

logger = Logger()
route_package_logs(logger)  # the package's log lines, with their `extra=` context, as this logger's JSON
app = APIGatewayHttpResolver(enable_validation=True)
app.configure_openapi(
    title="leadenrich",
    version="0.1.0",
    summary="Serverless lead enrichment jobs",
    description=DESCRIPTION,
    security_schemes={
        "apiKey": APIKey(
            name="X-API-Key",
            in_=APIKeyIn.header,
            description="An API key bound to one workspace (`enrich keys create`); checked by the Lambda "
            "authorizer. Missing: 401; unknown or revoked: 403.",
        )
    },
)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _invalid(exc: RequestValidationError) -> Response[str]:
    """A 422 naming the first offending field, e.g. `body.leads.3.domain`, never a 500; messages as a
    person reads them (pydantic's "Value error, " prefix removed)."""
    problems = [
        Problem(field=".".join(str(p) for p in e.get("loc", ())), message=human(str(e.get("msg", "invalid"))))
        for e in exc.errors()
    ]
    first = problems[0] if problems else Problem(field="body", message="invalid request")
    return error(422, first["message"], first["field"], errors=problems)


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unsupported_content_type(_exc: RequestUnsupportedContentType) -> Response[str]:
    return error(415, "the request body must be JSON (Content-Type: application/json)", "header.content-type")


@cache
def _route_patterns() -> tuple[tuple[re.Pattern[str], frozenset[str], frozenset[str]], ...]:
    """Each documented path as a pattern (`/jobs/{job_id}` -> `/jobs/[^/]+`) with its methods, and the
    methods that take a request body there."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    patterns = []
    for template, item in (app.get_openapi_schema().paths or {}).items():
        pattern = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in template.split("/"))
        operations = {m.upper(): getattr(item, m) for m in methods if getattr(item, m, None) is not None}
        with_body = frozenset(m for m, operation in operations.items() if operation.requestBody is not None)
        patterns.append((template.count("{"), re.compile(pattern), frozenset(operations), with_body))
    return tuple(route for _, *route in sorted(patterns, key=lambda p: p[0]))  # type: ignore[misc]


def _route_of(path: str) -> tuple[re.Pattern[str], frozenset[str], frozenset[str]] | None:
    """The documented path `path` is, as the router picks it: a literal path (`/jobs/bulk`) before a
    template that would also match it (`/jobs/{job_id}`)."""
    return next((route for route in _route_patterns() if route[0].fullmatch(path)), None)


def allowed_methods(path: str) -> frozenset[str]:
    """The methods the API serves on `path` (empty: no such route)."""
    route = _route_of(path)
    return route[1] if route is not None else frozenset()


def takes_body(method: str, path: str) -> bool:
    """Whether the operation reads a request body (JSON, its only documented content type)."""
    route = _route_of(path)
    return route is not None and method in route[2]


def _within_request_rate(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
    """Every operation's first step after Powertools' request validation: one request from the workspace's
    bucket (`api_context.admit`). Powertools runs middlewares for a path that is no route too (its 404 is a
    route of its own), so only a request naming one of the API's operations is counted: a path that is no
    route (404), a method a path does not serve (405) and a request refused as malformed (413, 415, 422)
    take nothing. They cost no store call; the limit is on the work a workspace asks for."""
    event = resolver.current_event
    if event.http_method.upper() in allowed_methods(event.path):
        admit(event)
    return next_middleware(resolver)


# The request rate first (a refused request does nothing); the audit trail records what a route did once it
# answered (`api_audit`: data-changing operations and reads of results, after a 2xx).
app.use(middlewares=[_within_request_rate, record_audit])


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _no_route(exc: NotFoundError) -> Response[str]:
    """No such route (404), or a route that exists with other methods (405 with `Allow`)."""
    event = app.current_event
    method, path = event.http_method.upper(), event.path
    allowed = allowed_methods(path)
    if allowed and method not in allowed:
        listed = ", ".join(sorted(allowed))
        return error(405, f"{method} is not allowed here; use {listed}", None, {"Allow": listed})
    return error(404, exc.msg if isinstance(exc.msg, str) else "Not found")


@app.exception_handler(JobNotFound)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _no_job(exc: JobNotFound) -> Response[str]:
    """A job that is not the workspace's (its message names the id)."""
    return error(404, str(exc))


@app.exception_handler(JobStateConflict)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _conflict(exc: JobStateConflict) -> Response[str]:
    """The job's status does not allow the change: 409 naming the field that could not change."""
    return error(409, exc.message, f"body.{exc.field}")


@app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _service_error(exc: ServiceError) -> Response[str]:
    """Powertools' HTTP errors in the API's error model instead of its `{statusCode, message}`."""
    message = exc.msg if isinstance(exc.msg, str) else json.dumps(exc.msg)
    return error(int(exc.status_code), message)


_OUTAGES = {
    "throttled": "is throttling requests",
    "unreachable": "cannot be reached",
    "missing": "is missing from this deployment",
    "failing": "is failing",
}


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unexpected(exc: Exception) -> Response[str]:
    """Anything no other handler maps. A store or queue that cannot serve now (`http_errors.outage`: the
    adapters let botocore's errors through, which this module may not import) is a 503 with Retry-After
    naming the kind of outage, never the resource; anything else a 500 that says nothing of the code. The
    details go to the log only (type and error code: a botocore message can name the table)."""
    kind = outage(exc)
    if kind is not None:
        logger.warning("store unavailable", extra={"error": type(exc).__name__, "code": error_code(exc)})
        headers = {"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)}
        return error(503, f"A store or queue of the service {_OUTAGES[kind]}: retry later", None, headers)
    logger.exception("unhandled error", extra={"error": type(exc).__name__})
    return error(500, "Internal server error: the request was not completed, retry later")


@app.exception_handler(RequestRejected)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _rejected(exc: RequestRejected) -> Response[str]:
    """What the service cannot serve as asked (Supabase not configured, an unknown lead id, an
    Idempotency-Key used for another body): a 422 naming the field where it is (`body.lead_ids.3`,
    `header.idempotency-key`), like a validation error."""
    return error(422, exc.message, f"{exc.location}.{exc.field}")


@app.exception_handler(LeadStoreError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _lead_store_failed(exc: LeadStoreError) -> Response[str]:
    """Supabase unreachable or refusing: not the caller's fault, and worth retrying."""
    logger.warning("lead store failed", extra={"error": str(exc)})  # names the call and code, no data
    return error(503, str(exc), None, {"Retry-After": "5"})


@app.exception_handler(BadCursor)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _bad_cursor(exc: BadCursor) -> Response[str]:
    """The stores' refusal of a cursor (malformed, too long or deep, another listing's: `jobs.encoding`
    reads every cursor with bounds): a 422 naming `query.cursor`."""
    return error(422, str(exc).removeprefix("cursor:").strip(), "query.cursor")


@app.exception_handler(Unauthorized)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unauthorized(_exc: Unauthorized) -> Response[str]:
    return error(401, "Unauthorized")


@app.exception_handler(QuotaExceeded)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _over_quota(exc: QuotaExceeded) -> Response[str]:
    """The workspace's daily lead quota: retry after the next UTC midnight."""
    headers = {"Retry-After": str(exc.retry_after_seconds)}
    return error(429, str(exc), None, headers, quota="daily_lead_quota", limit=exc.limit)


@app.exception_handler(RequestRateExceeded)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _over_rate(exc: RequestRateExceeded) -> Response[str]:
    """The workspace's request rate: retry once its bucket holds a request again."""
    headers = {"Retry-After": str(exc.retry_after_seconds)}
    return error(429, str(exc), None, headers, quota="workspace_request_rate", limit=exc.per_second)


@app.exception_handler(NotConfigured)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _not_configured(exc: NotConfigured) -> Response[str]:
    return error(501, str(exc))


# The operator console (`GET /console`, `api_routes.console`): a static page, not one of the JSON API's
# operations, so it is registered here rather than with the API's routers and is left out of the document.
app.include_router(console_router)
