"""Job control: change a job (`PATCH /jobs/{id}`: priority, webhook_url, run_at, tags, caps, pause or
resume), and one action on many jobs (`POST /jobs/bulk`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body

from api_context import answer, job_service, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich.jobs.control_requests import BulkJobsRequest, UpdateJobRequest
from leadenrich.jobs.views import BulkResultView, BulkView, JobView

router = new_router()

UPDATE_EXAMPLES = {
    "pause": Example(summary="Pause", value={"paused": True}),
    "raise_cap": Example(summary="Raise the cap and resume", value={"max_credits": 500, "paused": False}),
    "reschedule": Example(summary="Move a scheduled job", value={"run_at": "2027-01-05T09:00:00Z"}),
}


@router.patch(
    "/jobs/<job_id>",
    operation_id="updateJob",
    security=API_KEY,
    tags=["jobs"],
    description=(
        "Change what is given, leave the rest: `priority` (a new band moves the job's waiting items to its "
        "queue), `webhook_url`, `tags`, `max_credits`, `max_cost_usd` (null clears a cap), `run_at` (only "
        "a job still scheduled; null or a past time releases it at the next processor run), and `paused` "
        "(true pauses: its waiting items are not started, running ones finish; false resumes where it "
        "stopped). The other changes are stored before a resume, so one request can raise a cap and "
        "resume. 409 when the job's status does not allow the change (finished, started)."
    ),
    responses=responses({200: body(JobView, "The job as it is now")}, *KEYED, 404, 409),
)
def update_job(
    job_id: str, request: Annotated[UpdateJobRequest, Body(openapi_examples=UPDATE_EXAMPLES)]
) -> Response[str]:
    job = run(job_service().update_job(workspace(router.current_event), job_id, request))
    return answer(200, JobView.from_job(job))


@router.post(
    "/jobs/bulk",
    operation_id="bulkJobs",
    security=API_KEY,
    tags=["jobs"],
    description=(
        "One action (`cancel`, `retry`, `pause`, `resume`) on up to 100 of the workspace's jobs. Answers "
        "200 with one result per job id, in order: `done`, `not_found` (not a job of the workspace), or "
        "`conflict` (its status does not allow the action, with why); one job's refusal does not stop the "
        "others."
    ),
    responses=responses({200: body(BulkView, "One result per job")}, *KEYED),
)
def bulk_jobs(request: BulkJobsRequest) -> Response[str]:
    results = run(job_service().bulk(workspace(router.current_event), request))
    views = [
        BulkResultView(
            job_id=r.job_id,
            outcome=r.outcome,
            status=r.job.status if r.job is not None else None,
            message=r.message,
        )
        for r in results
    ]
    return answer(200, BulkView(action=request.action, results=views))
