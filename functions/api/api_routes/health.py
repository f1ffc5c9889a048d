"""`GET /health`: no key; for load balancers, uptime checks and operators. It reports each dependency the
service needs (`leadenrich.health`: the table, the queues, the app secret, the provider keys, Supabase when
configured) and answers 503 when a required one is down. Reports are kept a few seconds per instance, so a
busy poller costs the stores almost nothing; nothing in them is secret."""

from __future__ import annotations

import math

from aws_lambda_powertools.event_handler import Response

from api_context import answer, new_router, run
from api_responses import RETRY_AFTER_SCHEMA, body, header, responses
from leadenrich import runtime
from leadenrich.health import HealthReport
from leadenrich.http_errors import FieldProblem
from leadenrich.jobs.operation_views import DependencyView, HealthProblemView, HealthView

router = new_router()


def _dependencies(report: HealthReport) -> dict[str, DependencyView]:
    return {
        name: DependencyView(
            status="ok" if d.up else "down",
            required=d.required,
            reason=d.reason,
            detail=d.detail,
            latency_ms=d.latency_ms,
        )
        for name, d in report.dependencies.items()
    }


@router.get(
    "/health",
    operation_id="health",
    tags=["health"],
    summary="The service's dependencies, each up or down",
    responses=responses(
        {
            200: body(HealthView, "Every required dependency is up (an optional one may be down)"),
            503: body(
                HealthProblemView,
                "A required dependency is down (`errors` names each one); the report as for 200",
                {"Retry-After": header("seconds until the next check", RETRY_AFTER_SCHEMA, required=True)},
            ),
        }
    ),
)
def health() -> Response[str]:
    service = runtime.health()
    report = run(service.report())
    dependencies = _dependencies(report)
    if report.up:
        return answer(200, HealthView(status="ok", checked_at=report.checked_at, dependencies=dependencies))
    down = report.down
    problem = HealthProblemView(
        status="unavailable",
        checked_at=report.checked_at,
        dependencies=dependencies,
        message=f"unavailable: {', '.join(down)} down",
        field=None,
        errors=[
            FieldProblem(field=f"dependencies.{name}", message=dependencies[name].reason or "down")
            for name in down
        ],
    )
    retry_after = str(max(1, math.ceil(service.cache_seconds)))
    return answer(503, problem, {"Retry-After": retry_after})
