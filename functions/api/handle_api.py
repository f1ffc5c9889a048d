"""HTTP API Lambda: parse and validate, call the job service, map the result. Nothing else lives here.

Every 4xx and 5xx it sends has one body, `{"message", "field", "errors": [{"field", "message"}]}`
(`leadenrich.http_errors`): validation (422), bad cursors (422), a nesting or size limit passed (422, 413),
an unknown job or route (404), a known route with another method (405, with `Allow`), no authorizer
context (401), the daily quota (429, with `Retry-After`), Supabase not configured (501) or failing (503),
and anything unexpected (500, a generic message; the details go to the log only).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Coroutine
from functools import cache
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadenrich import jsonguard, runtime
from leadenrich.auth.quota import QuotaExceeded
from leadenrich.http_errors import Problem, error_body, human
from leadenrich.jobs.encoding import BadCursor
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import LeadStats, LeadStoreError
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import DryRun, NotConfigured, RequestRejected, Selection
from leadenrich.jobs.views import ItemsPage
from leadenrich.lambda_logging import route_package_logs
from leadenrich.supabase.client import close_supabase_clients

logger = Logger()
route_package_logs(logger)  # the package's log lines, with their `extra=` context, as this logger's JSON
app = APIGatewayHttpResolver(enable_validation=True)
app.configure_openapi(
    title="leadenrich",
    version="0.1.0",
    summary="Serverless lead enrichment jobs",
    security_schemes={
        "apiKey": APIKey(
            name="X-API-Key",
            in_=APIKeyIn.header,
            description="An API key bound to one workspace (`enrich keys create`); checked by the Lambda "
            "authorizer. Missing: 401; unknown or revoked: 403.",
        )
    },
)
# Every route but GET /health; API Gateway's default authorizer enforces it, the handler checks it again.
KEY: list[dict[str, list[str]]] = [{"apiKey": []}]
PUBLIC_ROUTES = frozenset({("GET", "/health")})

# The largest request body read: what a synchronous Lambda invocation accepts at most (6 MB), so a body
# that could never reach the deployed function is refused locally too, before anything parses it. The
# largest job (10,000 leads with a company name and a person each) is about 2 MB.
MAX_BODY_BYTES = 6 * 1024 * 1024

_T = TypeVar("_T")


def _run(work: Coroutine[Any, Any, _T]) -> _T:
    """One event loop per call; the Supabase clients made on it are closed with it."""

    async def scoped() -> _T:
        try:
            return await work
        finally:
            await close_supabase_clients()

    return asyncio.run(scoped())


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers,
    )


def _error(
    status: int,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[Problem] | None = None,
    **extra: object,
) -> Response[str]:
    """A 4xx/5xx in the API's one error model (`leadenrich.http_errors`)."""
    return _json(status, error_body(message, field, errors) | extra, headers)


class HeaderRejected(RequestRejected):
    """A header refused by the handler itself (422 naming `header.<name>`, like a validation error)."""

    location = "header"


class Unauthorized(Exception):
    """No authorizer context on a route that needs one (the API answers 401 as API Gateway would)."""


def authorized_workspace(event: dict[str, Any]) -> str | None:
    """The workspace the Lambda authorizer resolved from the API key, from
    `requestContext.authorizer.lambda.workspace_id` and nowhere else (no header the caller sets)."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    lambda_context = context.get("lambda") if isinstance(context, dict) else None
    workspace = lambda_context.get("workspace_id") if isinstance(lambda_context, dict) else None
    return workspace if isinstance(workspace, str) and workspace else None


def _workspace() -> str:
    workspace = authorized_workspace(app.current_event.raw_event)
    if workspace is None:
        raise Unauthorized
    return workspace


def job_view(job: Job) -> dict[str, object]:
    c = job.counters
    return {
        "job_id": job.job_id,
        "status": job.status.value,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "options": {
            "priority": job.options.priority,
            "max_attempts": job.options.max_attempts,
            "skip_existing": job.options.skip_existing,
            "webhook_url": job.options.webhook_url,
            "webhook_events": list(job.options.webhook_events),
            "tags": list(job.options.tags),
            "queue_window": job.options.queue_window,  # items in the queue at a time; null: all at once
        },
        "counters": {
            "total": c.total,
            "processed": c.processed,
            "found": c.found,
            "risky": c.risky,
            "failed": c.failed,
            "created_emails": c.created_emails,
            "api_calls_hunter": c.api_calls_hunter,
            "api_calls_perplexity": c.api_calls_perplexity,
            "processing_time_seconds": round(c.processing_time_seconds, 3),
        },
        "cost": {
            "hunter_credits": round(c.credits_hunter, 3),
            "perplexity_usd": round(c.cost_perplexity_usd, 6),
        },
        "links": {"self": f"/jobs/{job.job_id}", "items": f"/jobs/{job.job_id}/items"},
    }


def item_view(item: Item) -> dict[str, object]:
    view: dict[str, object] = {
        "item_id": item.item_id,
        "status": item.status.value,
        "attempts": item.attempts,
        "reason": item.reason,
        "lead": item.lead.model_dump(exclude_none=True),
        "emails": (item.result or {}).get("emails", []),
    }
    if item.lead_id is not None:
        view["lead_id"] = item.lead_id
    return view


def selection_view(selection: Selection) -> dict[str, object]:
    return {
        "source": selection.source,
        "leads": selection.leads,
        "skipped_existing": selection.skipped_existing,
        "next_after_lead_id": selection.next_after_lead_id,
    }


def dry_run_view(dry_run: DryRun, request: CreateJobRequest) -> dict[str, object]:
    return {
        "dry_run": True,
        "leads": dry_run.leads,
        "matching": dry_run.matching,
        "with_domain": dry_run.with_domain,
        "skipped_existing": dry_run.skipped_existing,
        "skip_existing": request.skip,
    }


def stats_view(stats: LeadStats) -> dict[str, object]:
    return {
        "total_leads": stats.total_leads,
        "leads_with_domain": stats.leads_with_domain,
        "leads_with_validated_email": stats.leads_with_validated_email,
        "leads_missing_email": stats.leads_missing_email,
        "emails": {"total": stats.emails_total, "by_source": stats.emails_by_source},
        "average_confidence_score": stats.average_confidence_score,
        "average_confidence_score_active": stats.average_confidence_score_active,
    }


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _invalid(error: RequestValidationError) -> Response[str]:
    """A 422 naming the first offending field, e.g. `body.leads.3.domain`, never a 500; messages as a
    person reads them (pydantic's "Value error, " prefix removed)."""
    problems = [
        Problem(field=".".join(str(p) for p in e.get("loc", ())), message=human(str(e.get("msg", "invalid"))))
        for e in error.errors()
    ]
    first = problems[0] if problems else Problem(field="body", message="invalid request")
    return _error(422, first["message"], first["field"], errors=problems)


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unsupported_content_type(_exc: RequestUnsupportedContentType) -> Response[str]:
    return _error(
        415, "the request body must be JSON (Content-Type: application/json)", "header.content-type"
    )


@cache
def _route_patterns() -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    """Each documented path as a pattern (`/jobs/{job_id}` -> `/jobs/[^/]+`) with its methods."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    patterns = []
    for template, item in (app.get_openapi_schema().paths or {}).items():
        pattern = "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in template.split("/"))
        allowed = frozenset(m.upper() for m in methods if getattr(item, m, None) is not None)
        patterns.append((re.compile(pattern), allowed))
    return tuple(patterns)


def allowed_methods(path: str) -> frozenset[str]:
    """The methods the API serves on `path` (empty: no such route)."""
    return frozenset().union(*(allowed for pattern, allowed in _route_patterns() if pattern.fullmatch(path)))


@app.exception_handler(NotFoundError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _not_found(error: NotFoundError) -> Response[str]:
    """A job that is not the workspace's (its message names the id), no such route (404), or a route that
    exists with other methods (405 with `Allow`)."""
    event = app.current_event
    method, path = event.http_method.upper(), event.path
    allowed = allowed_methods(path)
    if allowed and method not in allowed:
        return _error(
            405,
            f"{method} is not allowed here; use {', '.join(sorted(allowed))}",
            None,
            {"Allow": ", ".join(sorted(allowed))},
        )
    message = error.msg if isinstance(error.msg, str) else "Not found"
    return _error(404, message)


@app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _service_error(error: ServiceError) -> Response[str]:
    """Powertools' HTTP errors in the API's error model instead of its `{statusCode, message}`."""
    message = error.msg if isinstance(error.msg, str) else json.dumps(error.msg)
    return _error(int(error.status_code), message)


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unexpected(error: Exception) -> Response[str]:
    """Anything no other handler maps: a 500 that says nothing of the code; the details go to the log."""
    logger.exception("unhandled error", extra={"error": type(error).__name__})
    return _error(500, "Internal server error: the request was not completed, retry later")


@app.exception_handler(RequestRejected)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _rejected(error: RequestRejected) -> Response[str]:
    """What the service cannot serve as asked (Supabase not configured, an unknown lead id, an
    Idempotency-Key used for another body): a 422 naming the field where it is (`body.lead_ids.3`,
    `header.idempotency-key`), like a validation error."""
    return _error(422, error.message, f"{error.location}.{error.field}")


@app.exception_handler(LeadStoreError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _lead_store_failed(error: LeadStoreError) -> Response[str]:
    """Supabase unreachable or refusing: not the caller's fault, and worth retrying."""
    logger.warning("lead store failed", extra={"error": str(error)})  # names the call and code, no data
    return _error(503, str(error), None, {"Retry-After": "5"})


@app.exception_handler(BadCursor)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _bad_cursor(error: BadCursor) -> Response[str]:
    """The stores' refusal of a cursor (malformed, too long or deep, another listing's: `jobs.encoding`
    reads every cursor with bounds): a 422 naming `query.cursor`."""
    return _error(422, str(error).removeprefix("cursor:").strip(), "query.cursor")


@app.exception_handler(Unauthorized)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unauthorized(_exc: Unauthorized) -> Response[str]:
    return _error(401, "Unauthorized")


@app.exception_handler(QuotaExceeded)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _over_quota(error: QuotaExceeded) -> Response[str]:
    """The workspace's daily lead quota: retry after the next UTC midnight."""
    headers = {"Retry-After": str(error.retry_after_seconds)}
    return _error(429, str(error), None, headers, quota="daily_lead_quota", limit=error.limit)


@app.exception_handler(NotConfigured)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _not_configured(error: NotConfigured) -> Response[str]:
    return _error(501, str(error))


@app.post(
    "/jobs",
    security=KEY,
    description=(
        "Create a job from exactly one source: `leads` or `domains` (inline), `lead_ids` or `process_all` "
        "(leads stored in Supabase). Without Supabase configured, `leads` and `domains` are enriched as "
        "given, and `lead_ids`, `process_all` and `skip_existing` are a 422 naming the field. With Supabase, "
        "inline leads are matched to stored leads (or added), `domains` select the stored leads with those "
        "domains, every item's addresses are written to `emails`, and the 202 answer carries `selection` "
        "(source, leads, skipped_existing, next_after_lead_id). `dry_run` (process_all) answers 200 with "
        "the counts only. 503 when Supabase fails (nothing is left half-made). 429 with `Retry-After` when "
        "the job would pass the workspace's daily lead quota (a dry run takes none of it)."
    ),
)
def create_job(
    request: CreateJobRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",
            max_length=128,
            description="1-128 characters, not blank: an empty key is refused (422).",
        ),
    ] = None,
) -> Response[str]:
    """202 with the job (and, with Supabase, how its leads were selected); with `dry_run` (process_all), 200
    with the counts only."""
    if idempotency_key is not None and not idempotency_key.strip():
        # An empty key would be one key shared by every caller that sends the header without a value.
        raise HeaderRejected("idempotency-key", "must not be empty: send a unique key, or no header")
    service = runtime.job_service()
    if request.dry_run:
        return _json(200, dry_run_view(_run(service.preview(_workspace(), request)), request))
    created = _run(service.create_job(_workspace(), request, idempotency_key))
    headers = {"Location": f"/jobs/{created.job.job_id}"}
    if not created.created:
        headers["Idempotent-Replayed"] = "true"
    body = job_view(created.job)
    if created.selection is not None:
        body["selection"] = selection_view(created.selection)
    return _json(202, body, headers)


@app.get("/jobs", security=KEY)
def list_jobs(
    status: Annotated[JobStatus | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    service = runtime.job_service()
    page = _run(service.list_jobs(_workspace(), status=status, tag=tag, limit=limit, cursor=cursor))
    return _json(200, {"jobs": [job_view(j) for j in page.items], "cursor": page.cursor})


@app.get("/jobs/<job_id>", security=KEY)
def get_job(job_id: str) -> Response[str]:
    job = _run(runtime.job_service().get_job(_workspace(), job_id))
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    view = job_view(job)
    if job.options.webhook_url:  # every delivery attempt of the job's callback, oldest first
        view["callbacks"] = _run(runtime.webhooks().log.attempts(job.workspace_id, job.job_id))
    return _json(200, view)


@app.get(
    "/jobs/<job_id>/items",
    security=KEY,
    responses={
        200: {
            "description": "A page of the job's items, in item order, each with its addresses",
            "content": {"application/json": {"model": ItemsPage}},
        }
    },
)
def list_items(
    job_id: str,
    status: Annotated[ItemStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    service = runtime.job_service()
    if _run(service.get_job(_workspace(), job_id)) is None:
        raise NotFoundError(f"job {job_id} not found")
    page = _run(service.list_items(_workspace(), job_id, status=status, limit=limit, cursor=cursor))
    return _json(200, {"items": [item_view(i) for i in page.items], "cursor": page.cursor})


@app.delete("/jobs/<job_id>", security=KEY)
def cancel_job(job_id: str) -> Response[str]:
    job = _run(runtime.job_service().cancel_job(_workspace(), job_id))
    if job is None:
        raise NotFoundError(f"job {job_id} not found")
    return _json(200, job_view(job))


@app.post("/jobs/<job_id>/retry", security=KEY)
def retry_job(job_id: str) -> Response[str]:
    service = runtime.job_service()
    if _run(service.get_job(_workspace(), job_id)) is None:
        raise NotFoundError(f"job {job_id} not found")
    items = _run(service.retry_job(_workspace(), job_id))
    return _json(202, {"job_id": job_id, "requeued": len(items)})


@app.post("/dlq/redrive", security=KEY)
def redrive() -> Response[str]:
    moved = _run(runtime.job_service().redrive(_workspace()))
    return _json(202, {"redriven": moved})


@app.get("/metrics", security=KEY)
def metrics() -> Response[str]:
    metrics = _run(runtime.job_service().metrics(_workspace()))
    depth, hour = metrics.depth, metrics.last_hour
    return _json(
        200,
        {
            "queue_depth": depth.visible + depth.delayed,
            "in_flight": depth.in_flight,
            "dlq_depth": depth.dead_letters,
            "items_processed_last_hour": hour.processed,
            "items_found_last_hour": hour.found,
            "items_failed_last_hour": hour.failed,
            "success_rate": hour.success_rate,
            "found_rate": hour.found_rate,
        },
    )


@app.get(
    "/stats",
    security=KEY,
    description=(
        "Leads and addresses in Supabase for the workspace: total leads, leads with a domain, with a "
        "validated (active) email and missing one, addresses by source and status, average confidence. 501 "
        "when Supabase is not configured."
    ),
)
def stats() -> Response[str]:
    """Leads and addresses in Supabase (501 when it is not configured)."""
    return _json(200, stats_view(_run(runtime.job_service().stats(_workspace()))))


@app.get("/health")
def health() -> Response[str]:
    return _json(200, {"status": "ok"})


def body_problem(event: dict[str, Any]) -> tuple[int, str] | None:
    """What makes a request body unreadable before Powertools parses it, as (status, message): a base64 body
    that is not UTF-8 (Powertools would raise while decoding it), one over `MAX_BODY_BYTES` (413), or one
    nested past `jsonguard.MAX_DEPTH` (the parser's RecursionError was a 500). None when it may be parsed."""
    body = event.get("body")
    if not body:
        return None
    text = str(body)
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return 422, "the request body is not UTF-8 encoded JSON"
    if len(text) > MAX_BODY_BYTES or len(text.encode("utf-8")) > MAX_BODY_BYTES:
        return 413, f"the request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB"
    try:
        jsonguard.check_depth(text)
    except jsonguard.JsonTooDeep as exc:
        return 422, f"the request body is {exc}"
    return None


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    if (method, event.get("rawPath")) not in PUBLIC_ROUTES and authorized_workspace(event) is None:
        # Defence in depth: API Gateway's authorizer lets nothing through without a workspace.
        return _plain_json(401, error_body("Unauthorized"))
    problem = body_problem(event)
    if problem is not None:
        status, message = problem
        return _plain_json(status, error_body(message, "body"))
    return app.resolve(event, context)


def _plain_json(status: int, body: object) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
