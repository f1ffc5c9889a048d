"""`POST /enrich` (docs/enrich.md): who an address belongs to, through the global result cache
(`buffer.person`). The workspace comes from the API key; it pays for what it asks (its monthly credit
budget), unless the answer was cached. Each look-up is recorded in the audit trail by the address's keyed
hash, never the address."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body

from api_audit import Audited, Exchange, note, register
from api_context import answer, error, new_router, run, workspace
from api_responses import API_KEY, KEYED, RETRY_AFTER_SCHEMA, body, header, responses
from leadenrich import runtime
from leadenrich.buffer.person import ProviderUnavailable
from leadenrich.buffer.requests import EnrichRequest
from leadenrich.buffer.views import PersonView
from leadenrich.engine.budget import BudgetReached
from leadenrich.http_errors import ErrorBody
from leadenrich.privacy.identity import email_identity

router = new_router()

EXAMPLES = {"email": Example(summary="A person's address", value={"email": "ada@acme-robotics.com"})}


def _looked_up(exchange: Exchange) -> dict[str, Any]:
    return {name: exchange.response.get(name) for name in ("found", "cached")}


register("POST", "/enrich", Audited("person.enrich", target=lambda _e: "", detail=_looked_up))


@router.post(
    "/enrich",
    operation_id="enrichPerson",
    security=API_KEY,
    tags=["buffer"],
    description=(
        "Who an address belongs to: name, title, seniority, department, company and profiles, from Hunter's "
        "Email Enrichment. Answers are cached for every workspace (30 days when found, 7 when not): a "
        "cached answer says `cached: true` and costs nothing; a fresh profile costs the workspace one Hunter "
        "search credit (0.2 on All-in-one plans). `found: false` when Hunter knows no one for the address, "
        "or the address or its person is on a suppression list (nothing is asked then)."
    ),
    responses=responses(
        {
            200: body(PersonView, "The person, or found: false"),
            402: body(
                ErrorBody,
                "The workspace's monthly credit budget is spent (`GET /budget`): only cached answers until "
                "the next UTC month, or a higher budget",
            ),
            501: body(ErrorBody, "No person-enrichment provider is configured (HUNTER_API_KEY)"),
            503: body(
                ErrorBody,
                "Hunter cannot answer now (throttled, failing, too slow, its quota spent or our key "
                "refused), "
                "or a store of the service is out: retry after `Retry-After` seconds",
                {
                    "Retry-After": header(
                        "seconds to wait before trying again", RETRY_AFTER_SCHEMA, required=True
                    )
                },
            ),
        },
        *KEYED,
    ),
)
def enrich_person(request: Annotated[EnrichRequest, Body(openapi_examples=EXAMPLES)]) -> Response[str]:
    note(router, target=email_identity(request.email).key)
    try:
        found = run(runtime.person_lookup().find(workspace(router.current_event), request.email))
    except BudgetReached:
        return error(
            402, "the workspace's monthly credit budget is spent: only cached answers until next month"
        )
    except ProviderUnavailable as exc:
        return error(503, exc.message, None, {"Retry-After": str(exc.retry_after)})
    return answer(200, PersonView.of(found))
