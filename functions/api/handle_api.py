"""HTTP API Lambda: parse and validate, call the job service, map the result. Nothing else lives here."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadenrich import runtime
from leadenrich.auth.quota import QuotaExceeded
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import LeadStats, LeadStoreError
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import DryRun, NotConfigured, RequestRejected, Selection
from leadenrich.jobs.views import ItemsPage
from leadenrich.supabase.client import close_supabase_clients

logger = Logger()
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
    """A 422 naming the first offending field, e.g. `body.leads.3.domain`, never a 500."""
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in error.errors()
    ]
    first = problems[0] if problems else {"field": "", "message": "invalid request"}
    return _json(422, {"message": first["message"], "field": first["field"], "errors": problems[:20]})


@app.exception_handler(RequestRejected)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _rejected(error: RequestRejected) -> Response[str]:
    """What the service cannot serve as asked (Supabase not configured, an unknown lead id): a 422 naming
    the body field, like a validation error."""
    field = f"body.{error.field}"
    problem = {"field": field, "message": error.message}
    return _json(422, {"message": error.message, "field": field, "errors": [problem]})


@app.exception_handler(LeadStoreError)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _lead_store_failed(error: LeadStoreError) -> Response[str]:
    """Supabase unreachable or refusing: not the caller's fault, and worth retrying."""
    logger.warning("lead store failed", extra={"error": str(error)})  # names the call and code, no data
    return _json(503, {"message": str(error), "field": None}, {"Retry-After": "5"})


class BadCursor(Exception):
    """A cursor the listing did not return: malformed, or another listing's (another workspace's)."""


@contextmanager
def _cursor_checked() -> Iterator[None]:
    try:
        yield
    except ValueError as exc:
        if str(exc).startswith("cursor:"):  # the stores' refusal of a cursor, naming no data
            raise BadCursor(str(exc).removeprefix("cursor:").strip()) from None
        raise


@app.exception_handler(BadCursor)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _bad_cursor(error: BadCursor) -> Response[str]:
    problem = {"field": "query.cursor", "message": str(error)}
    return _json(422, {"message": str(error), "field": "query.cursor", "errors": [problem]})


@app.exception_handler(Unauthorized)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _unauthorized(_error: Unauthorized) -> Response[str]:
    return _json(401, {"message": "Unauthorized"})


@app.exception_handler(QuotaExceeded)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _over_quota(error: QuotaExceeded) -> Response[str]:
    """The workspace's daily lead quota: retry after the next UTC midnight."""
    body = {"message": str(error), "field": None, "quota": "daily_lead_quota", "limit": error.limit}
    return _json(429, body, {"Retry-After": str(error.retry_after_seconds)})


@app.exception_handler(NotConfigured)  # type: ignore[untyped-decorator]  # Powertools: untyped
def _not_configured(error: NotConfigured) -> Response[str]:
    return _json(501, {"message": str(error), "field": None})


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
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=128)] = None,
) -> Response[str]:
    """202 with the job (and, with Supabase, how its leads were selected); with `dry_run` (process_all), 200
    with the counts only."""
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
    with _cursor_checked():
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
    with _cursor_checked():
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


def _undecodable_body(event: dict[str, Any]) -> bool:
    """A base64 body that is not UTF-8: Powertools would raise while decoding it, a 500 for bad input."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return False
    try:
        base64.b64decode(event["body"], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return True
    return False


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    if (method, event.get("rawPath")) not in PUBLIC_ROUTES and authorized_workspace(event) is None:
        # Defence in depth: API Gateway's authorizer lets nothing through without a workspace.
        return _plain_json(401, {"message": "Unauthorized"})
    if _undecodable_body(event):
        return _plain_json(
            422, {"message": "the request body is not UTF-8 encoded JSON", "field": "body", "errors": []}
        )
    return app.resolve(event, context)


def _plain_json(status: int, body: object) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
