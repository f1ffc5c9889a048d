"""`GET /settings` and `PUT /settings`: the caller's workspace's personal-data settings (retention periods,
the approval workflow, refused and flagged countries, the default lawful basis; docs/privacy.md).

PUT changes the fields it is given and keeps the others (`privacy.settings.WorkspaceSettingsChange`), so a
client that sends one field cannot reset the rest by leaving them out. A workspace's key may change its own
settings: each only narrows what the service keeps or does for that workspace (shorter retention, more
review, fewer countries), except a longer retention, which is the workspace's own data to keep."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body

from api_context import answer, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.privacy.settings import WorkspaceSettingsChange, change_settings
from leadenrich.privacy.settings_views import WorkspaceSettingsView

router = new_router()

EXAMPLES = {
    "retention": Example(
        summary="Shorter retention",
        value={"results_retention_days": 30, "unverified_retention_days": 14, "cache_retention_days": 7},
    ),
    "review": Example(summary="Review every address", value={"review_required": True}),
    "countries": Example(
        summary="Refuse and flag countries", value={"refused_countries": ["RU"], "flagged_countries": ["US"]}
    ),
}
ANSWER = body(WorkspaceSettingsView, "The workspace's settings in force (its own, else the defaults)")


@router.get(
    "/settings",
    operation_id="getSettings",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "The workspace's personal-data settings: how long unverified addresses, finished jobs and their "
        "results, cached provider answers and audit entries are kept, whether found addresses need "
        "approval, the countries refused or flagged, and the default lawful basis. A workspace that never "
        "changed them has the defaults (30, 90, 30 and 365 days; no review; no countries; "
        "legitimate_interest)."
    ),
    responses=responses({200: ANSWER}, *KEYED),
)
def get_settings() -> Response[str]:
    workspace_id = workspace(router.current_event)
    settings = run(runtime.workspace_settings().get(workspace_id))
    return answer(200, WorkspaceSettingsView.of(workspace_id, settings))


@router.put(
    "/settings",
    operation_id="putSettings",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "Change the settings given; the ones left out keep their value (null is refused: leave a field out "
        "to keep it). Periods are 1 to 3,650 days; countries ISO 3166-1 alpha-2 codes (GB, not UK), none "
        "both refused and flagged; the lawful basis `legitimate_interest`, `consent` or `contract`. A "
        "shorter period applies to what is stored from then on (DynamoDB rows carry the period in force when "
        "they finished); the purges of SQLite and Supabase apply it to everything at their next hourly run. "
        "The processor reads a change within five minutes."
    ),
    responses=responses({200: ANSWER}, *KEYED),
)
def put_settings(
    request: Annotated[WorkspaceSettingsChange, Body(openapi_examples=EXAMPLES)],
) -> Response[str]:
    workspace_id = workspace(router.current_event)
    settings = run(change_settings(runtime.workspace_settings(), workspace_id, request))
    return answer(200, WorkspaceSettingsView.of(workspace_id, settings))
