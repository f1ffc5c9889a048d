"""Operations: the dead-letter redrive, the queue and last hour's metrics (in all, and per 5 minutes for the
operator console's chart), and the Supabase lead stats."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from api_context import answer, job_service, new_router, run, workspace
from api_responses import API_KEY, KEYED, STORE, body, responses
from leadenrich.jobs.operation_views import (
    ActivityBucketView,
    EmailCountsView,
    MetricsView,
    RedriveView,
    StatsView,
)

router = new_router()


@router.post(
    "/dlq/redrive",
    operation_id="redriveDeadLetters",
    security=API_KEY,
    tags=["operations"],
    status_code=202,
    responses=responses(
        {202: body(RedriveView, "The workspace's dead letters, back in the queue; others' stay")},
        *KEYED,
    ),
)
def redrive() -> Response[str]:
    return answer(202, RedriveView(redriven=run(job_service().redrive(workspace(router.current_event)))))


@router.get(
    "/metrics",
    operation_id="getMetrics",
    security=API_KEY,
    tags=["operations"],
    responses=responses(
        {
            200: body(
                MetricsView,
                "The queue now (the whole service's) and the workspace's last hour, in all and per 5 minutes",
            )
        },
        *KEYED,
    ),
)
def metrics() -> Response[str]:
    found = run(job_service().metrics(workspace(router.current_event)))
    depth, hour = found.depth, found.last_hour
    view = MetricsView(
        queue_depth=depth.visible + depth.delayed,
        in_flight=depth.in_flight,
        dlq_depth=depth.dead_letters,
        items_processed_last_hour=hour.processed,
        items_found_last_hour=hour.found,
        items_failed_last_hour=hour.failed,
        success_rate=hour.success_rate,
        found_rate=hour.found_rate,
        last_hour_series=[
            ActivityBucketView(
                start=bucket.start,
                processed=bucket.activity.processed,
                found=bucket.activity.found,
                failed=bucket.activity.failed,
                success_rate=bucket.activity.success_rate,
            )
            for bucket in found.last_hour_series
        ],
    )
    return answer(200, view)


@router.get(
    "/stats",
    operation_id="getStats",
    security=API_KEY,
    tags=["operations"],
    description=(
        "Leads and addresses in Supabase for the workspace: total leads, leads with a domain, with a "
        "validated (active) email and missing one, addresses by source and status, average confidence. 501 "
        "when Supabase is not configured."
    ),
    responses=responses({200: body(StatsView, "The workspace's leads and addresses")}, *KEYED, 501, *STORE),
)
def stats() -> Response[str]:
    """Leads and addresses in Supabase (501 when it is not configured)."""
    found = run(job_service().stats(workspace(router.current_event)))
    view = StatsView(
        total_leads=found.total_leads,
        leads_with_domain=found.leads_with_domain,
        leads_with_validated_email=found.leads_with_validated_email,
        leads_missing_email=found.leads_missing_email,
        emails=EmailCountsView(total=found.emails_total, by_source=found.emails_by_source),
        average_confidence_score=found.average_confidence_score,
        average_confidence_score_active=found.average_confidence_score_active,
    )
    return answer(200, view)
