"""Jobs: create (202, or 200 for a dry run), list, get (with its callback attempts), cancel, retry."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from api_context import HeaderRejected, answer, job_service, new_router, run, workspace
from api_responses import API_KEY, KEYED, QUOTA_OR_THROTTLE, STORE, body, header, responses
from leadenrich.jobs.creation import Selection
from leadenrich.jobs.models import JobStatus
from leadenrich.jobs.operation_views import RetryView
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.views import (
    CallbackAttemptView,
    CreatedJobView,
    DryRunView,
    JobDetailView,
    JobsPage,
    JobView,
    SelectionView,
)

router = new_router()

EXAMPLES = {
    "domains": Example(
        summary="Companies by domain", value={"domains": ["acme-robotics.com"], "tags": ["demo"]}
    ),
    "emails": Example(
        summary="Addresses to verify (a verification job)",
        value={"emails": ["ada@acme-robotics.com", "info@globex-analytics.io"]},
    ),
    "scheduled": Example(
        summary="Scheduled, with a spend cap",
        value={"domains": ["acme-robotics.com"], "run_at": "2027-01-05T09:00:00Z", "max_credits": 50},
    ),
    "leads": Example(
        summary="People at companies",
        value={
            "leads": [
                {
                    "domain": "acme-robotics.com",
                    "first_name": "Ada",
                    "last_name": "Byron",
                    "external_id": "crm-1",
                }
            ],
            "priority": 2,
        },
    ),
}
# What a client (and schemathesis' stateful phase) can do next with the job it made.
NEXT = {
    name: {"operationId": operation, "parameters": {"job_id": "$response.body#/job_id"}}
    for name, operation in (
        ("GetJob", "getJob"),
        ("ListItems", "listItems"),
        ("CancelJob", "cancelJob"),
        ("RetryJob", "retryJob"),
    )
}
CREATED = body(
    CreatedJobView,
    "The job, stored and its first items queued (`Location` names it). A replay of an Idempotency-Key with "
    "the same body answers the first request's job, also 202, with `Idempotent-Replayed: true`.",
    {
        "Location": header("the job: /jobs/{job_id}", {"type": "string"}, required=True),
        "Idempotent-Replayed": header(
            "`true` when an earlier request with this Idempotency-Key made the job",
            {"type": "string", "enum": ["true"]},
        ),
    },
)


@router.post(
    "/jobs",
    operation_id="createJob",
    security=API_KEY,
    tags=["jobs"],
    status_code=202,
    description=(
        "Create a job from exactly one source: `leads` or `domains` (inline), `lead_ids` or `process_all` "
        "(leads stored in Supabase), or `emails` (a verification job: each address through Hunter's "
        "verifier, docs/verification.md). `run_at` starts it later (up to 30 days ahead), `max_credits` and "
        "`max_cost_usd` cap what it may spend (docs/job-control.md, docs/spend-caps.md). Without Supabase "
        "configured, `leads` and `domains` are enriched as "
        "given, and `lead_ids`, `process_all` and `skip_existing` are a 422 naming the field. With Supabase, "
        "inline leads are matched to stored leads (or added), `domains` select the stored leads with those "
        "domains, every item's addresses are written to `emails`, and the 202 answer carries `selection` "
        "(source, leads, skipped_existing, next_after_lead_id). `dry_run` (process_all) answers 200 with "
        "the counts only. 503 when Supabase fails (nothing is left half-made). 429 with `Retry-After` when "
        "the job would pass the workspace's daily lead quota (a dry run takes none of it)."
    ),
    responses=responses(
        {
            202: {**CREATED, "links": NEXT},
            200: body(DryRunView, "`dry_run` (process_all): what the job would take; nothing is created"),
            429: QUOTA_OR_THROTTLE,
        },
        *KEYED,
        415,
        *STORE,
    ),
)
def create_job(
    request: Annotated[CreateJobRequest, Body(openapi_examples=EXAMPLES)],
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
    caller = workspace(router.current_event)
    if request.dry_run:
        dry = run(job_service().preview(caller, request))
        view = DryRunView(
            dry_run=True,
            leads=dry.leads,
            matching=dry.matching,
            with_domain=dry.with_domain,
            skipped_existing=dry.skipped_existing,
            skipped_recent=dry.skipped_recent,
            skip_existing=request.skip,
        )
        return answer(200, view)
    created = run(job_service().create_job(caller, request, idempotency_key))
    headers = {"Location": f"/jobs/{created.job.job_id}"}
    if not created.created:
        headers["Idempotent-Replayed"] = "true"
    fields = CreatedJobView.fields_of(created.job)
    if created.selection is not None:
        fields["selection"] = _selection(created.selection)
    return answer(202, CreatedJobView(**fields), headers)


def _selection(selection: Selection) -> SelectionView:
    return SelectionView(
        source=selection.source,
        leads=selection.leads,
        skipped_existing=selection.skipped_existing,
        next_after_lead_id=selection.next_after_lead_id,
        skipped_recent=selection.skipped_recent,
    )


@router.get(
    "/jobs",
    operation_id="listJobs",
    security=API_KEY,
    tags=["jobs"],
    responses=responses({200: body(JobsPage, "A page of the workspace's jobs, newest first")}, *KEYED),
)
def list_jobs(
    status: Annotated[JobStatus | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    caller = workspace(router.current_event)
    page = run(job_service().list_jobs(caller, status=status, tag=tag, limit=limit, cursor=cursor))
    return answer(200, JobsPage(jobs=[JobView.from_job(j) for j in page.items], cursor=page.cursor))


@router.get(
    "/jobs/<job_id>",
    operation_id="getJob",
    security=API_KEY,
    tags=["jobs"],
    responses=responses(
        {200: body(JobDetailView, "The job; with a webhook_url, every attempt of its callback")},
        *KEYED,
        404,
    ),
)
def get_job(job_id: str) -> Response[str]:
    detail = run(job_service().job_detail(workspace(router.current_event), job_id))
    fields = JobDetailView.fields_of(detail.job)
    if detail.callbacks is not None:  # every delivery attempt of the job's callback, oldest first
        fields["callbacks"] = [CallbackAttemptView.model_validate(a) for a in detail.callbacks]
    return answer(200, JobDetailView(**fields))


@router.delete(
    "/jobs/<job_id>",
    operation_id="cancelJob",
    security=API_KEY,
    tags=["jobs"],
    responses=responses(
        {200: body(JobView, "The job, cancelled: its waiting items are skipped, finished ones kept")},
        *KEYED,
        404,
    ),
)
def cancel_job(job_id: str) -> Response[str]:
    return answer(
        200, JobView.from_job(run(job_service().cancel_job(workspace(router.current_event), job_id)))
    )


@router.post(
    "/jobs/<job_id>/retry",
    operation_id="retryJob",
    security=API_KEY,
    tags=["jobs"],
    status_code=202,
    responses=responses(
        {202: body(RetryView, "The job's failed and dead items, back in the queue with fresh attempts")},
        *KEYED,
        404,
    ),
)
def retry_job(job_id: str) -> Response[str]:
    items = run(job_service().retry_job(workspace(router.current_event), job_id))
    return answer(202, RetryView(job_id=job_id, requeued=len(items)))
