"""`GET /health`: no key, no store; for load balancers and uptime checks."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from api_context import answer, new_router
from api_responses import body, responses
from leadenrich.jobs.views import HealthView

router = new_router()


@router.get(
    "/health",
    operation_id="health",
    tags=["health"],
    responses=responses({200: body(HealthView, "The function answers")}),
)
def health() -> Response[str]:
    return answer(200, HealthView(status="ok"))
