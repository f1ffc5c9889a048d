"""`POST /leads`: create one lead or up to 1,000 and enrich the new ones (docs/auto-enrichment.md). The
workspace comes from the API key; nothing calls a provider here: the leads go in one job, which the
processor runs. `GET /leads` (the buffer's served leads) is another operation on the same path
(`api_routes.buffer`). Recorded in the audit trail as `leads.create` (counts and the job, never a lead)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from api_audit import Audited, Exchange, register
from api_context import HeaderRejected, answer, new_router, run, workspace
from api_responses import API_KEY, KEYED, QUOTA_OR_THROTTLE, STORE, body, header, responses
from leadenrich import runtime_intake
from leadenrich.jobs.lead_intake_views import CreateLeadsRequest, LeadsAcceptedView

router = new_router()

EXAMPLES = {
    "one": Example(
        summary="One lead",
        value={"lead": {"domain": "acme-robotics.com", "first_name": "Ada", "last_name": "Byron"}},
    ),
    "batch": Example(
        summary="A batch, in one job",
        value={
            "leads": [
                {"domain": "acme-robotics.com", "external_id": "crm-1"},
                {"company_name": "Globex Analytics", "external_id": "crm-2"},
            ],
            "priority": 2,
            "tags": ["signup"],
        },
    ),
}
ACCEPTED = body(
    LeadsAcceptedView,
    "The leads, stored (with Supabase), and the new ones in one job (`job_id`, `Location`), each lead's "
    "outcome in request order. A replay of an Idempotency-Key with the same body answers the first "
    "request's job with `Idempotent-Replayed: true` and no per-lead outcomes.",
    {
        "Location": header("the job, when one was made: /jobs/{job_id}", {"type": "string"}),
        "Idempotent-Replayed": header(
            "`true` when an earlier request with this Idempotency-Key made the job",
            {"type": "string", "enum": ["true"]},
        ),
    },
)


def _job_of(exchange: Exchange) -> str | None:
    job_id = exchange.response.get("job_id")
    return str(job_id) if job_id else None


def _counts(exchange: Exchange) -> dict[str, Any]:
    return {name: exchange.response.get(name) for name in ("created", "duplicates", "enqueued", "replayed")}


def _made(exchange: Exchange) -> bool:
    """Leads stored now: not a replayed Idempotency-Key."""
    return exchange.status == 202 and exchange.response.get("replayed") is False


register(
    "POST",
    "/leads",
    Audited("leads.create", lambda e: _job_of(e) or "", _counts, when=_made, job_id=_job_of),
)


@router.post(
    "/leads",
    operation_id="createLeads",
    security=API_KEY,
    tags=["leads"],
    status_code=202,
    description=(
        "Create one lead (`lead`) or a batch of 1 to 1,000 (`leads`) and enrich the new ones: they go in "
        "one job (`job_id`), which the processor runs within a minute or so; nothing is paid for in the "
        "request. With Supabase each lead is matched to a stored lead (by `external_id`, else by domain and "
        "names, as POST /jobs' inline leads) or added to `leads`; a lead already in a job, or enriched "
        "(completed) within the workspace's `reenrich_after_days`, is not enqueued again, and each lead's "
        "`leads` row records its enrichment (`enrichment_status`, `enriched_at`, `enrichment_error`, "
        "`sources_used`, `sources_failed`). Without Supabase a lead lives in its job's item (a repeat "
        "within the request is enqueued once). `Idempotency-Key` as POST /jobs. 429 with `Retry-After` "
        "when the job would pass the workspace's daily lead quota (nothing is enqueued)."
    ),
    responses=responses({202: ACCEPTED, 429: QUOTA_OR_THROTTLE}, *KEYED, 415, *STORE),
)
def create_leads(
    request: Annotated[CreateLeadsRequest, Body(openapi_examples=EXAMPLES)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",
            max_length=128,
            description="1-128 characters, not blank: an empty key is refused (422).",
        ),
    ] = None,
) -> Response[str]:
    if idempotency_key is not None and not idempotency_key.strip():
        raise HeaderRejected("idempotency-key", "must not be empty: send a unique key, or no header")
    caller = workspace(router.current_event)
    intake = run(
        runtime_intake.lead_intake().create(
            caller,
            request.all_leads(),
            priority=request.priority,
            tags=request.tags,
            fingerprint=request.fingerprint(),
            idempotency_key=idempotency_key,
        )
    )
    headers: dict[str, str] = {}
    if intake.job is not None:
        headers["Location"] = f"/jobs/{intake.job.job_id}"
    if intake.replayed:
        headers["Idempotent-Replayed"] = "true"
    return answer(202, LeadsAcceptedView.of(intake), headers or None)
