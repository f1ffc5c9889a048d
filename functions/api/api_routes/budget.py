"""`GET /budget`: the caller's workspace's monthly credit budget and what it spent this UTC month.

Read-only: operators set a workspace's budget with `enrich budget set` (enrich_tools.budget), not the API,
since a workspace's key must not raise its own spending limit. Jobs' own caps (`max_credits`,
`max_cost_usd`) are in the job (`GET /jobs/{job_id}`); docs/spend-caps.md says what is checked when."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from api_context import answer, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.jobs.budget_views import BudgetView

router = new_router()


@router.get(
    "/budget",
    operation_id="getBudget",
    security=API_KEY,
    tags=["operations"],
    description=(
        "The workspace's monthly budget of Hunter credits (its own, set by an operator with `enrich budget "
        "set`, else the deployment's default) and its spend this UTC month, every job together. Once the "
        "budget is reached, the next paid call of any of its jobs pauses that job with reason "
        "`budget_reached`; raise the budget and resume the job to continue."
    ),
    responses=responses({200: body(BudgetView, "The workspace's budget and this month's spend")}, *KEYED),
)
def budget() -> Response[str]:
    status = run(runtime.spend_caps().status(workspace(router.current_event)))
    return answer(200, BudgetView.of(status))
