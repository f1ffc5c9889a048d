"""`GET/POST/DELETE /suppressions`: the workspace's own suppression list (docs/privacy.md "Suppression").

Whatever is on it is never searched, guessed, verified, stored or returned by the workspace's jobs. The
workspace comes from the API key, never a parameter: a workspace reads, adds to and removes from its own
list only. The service-wide list (Hunter's 451s, erasures) applies to every workspace and is shown to none,
nor can a workspace lift it: `DELETE` of one of its keys is a 404 like any key the workspace does not have.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from api_audit import Audited, Exchange, register
from api_context import answer, error, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.http_errors import ErrorBody
from leadenrich.privacy.ports import SuppressionReason
from leadenrich.privacy.suppression import SuppressionsRequest, add_entries
from leadenrich.privacy.views import SuppressedView, SuppressionRemoved, SuppressionsAdded, SuppressionsPage

router = new_router()

EXAMPLES = {
    "mixed": Example(
        summary="An address, a person at a company, and a whole company",
        value={
            "entries": [
                {"email": "ada@acme-robotics.com"},
                {"first_name": "Grace", "last_name": "Hopper", "domain": "globex-analytics.io"},
                {"domain": "initech.example"},
            ]
        },
    )
}


def _added(exchange: Exchange) -> dict[str, Any]:
    """The audit entry's detail: counts only (the keys are in the answer; no address ever is)."""
    entries = exchange.response.get("entries")
    return {
        "added": exchange.response.get("added"),
        "entries": len(entries) if isinstance(entries, list) else 0,
    }


register("POST", "/suppressions", Audited("suppression.add", target=lambda _e: "", detail=_added))
register("DELETE", "/suppressions/{key}", Audited("suppression.remove"))


@router.get(
    "/suppressions",
    operation_id="listSuppressions",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "The workspace's own suppression list, newest first, in pages: each entry's key (what DELETE takes), "
        "its kind, a masked label (never the address or the name), why and when it was added. The "
        "service-wide list (people who asked Hunter not to be processed, erased people) applies to every "
        "workspace and is not shown."
    ),
    responses=responses(
        {200: body(SuppressionsPage, "A page of the workspace's entries, newest first")}, *KEYED
    ),
)
def list_suppressions(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    page = run(runtime.suppressions().list(workspace(router.current_event), limit=limit, cursor=cursor))
    return answer(200, SuppressionsPage.of(page))


@router.post(
    "/suppressions",
    operation_id="addSuppressions",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "Add up to 1,000 entries to the workspace's suppression list, each one of: `{email}` (an address), "
        "`{first_name, last_name, domain}` (a person at a company: names compared without case, accents or "
        "extra spaces) or `{domain}` (everyone there). From the next item on, the workspace's jobs do not "
        "search, guess, verify, store or return them: a suppressed domain's leads end `not_found`, reason "
        "`suppressed: ...`, for no credit. Addresses and people are stored as keyed hashes, domains in "
        "clear. An entry already listed is kept as it was. A bad entry is a 422 naming it "
        "(`body.entries.3.email`), and nothing is added."
    ),
    responses=responses(
        {200: body(SuppressionsAdded, "How many entries were new, and each entry's key, in the order sent")},
        *KEYED,
    ),
)
def add_suppressions(
    request: Annotated[SuppressionsRequest, Body(openapi_examples=EXAMPLES)],
) -> Response[str]:
    caller = workspace(router.current_event)
    now = datetime.now(UTC)
    added, identities = run(
        add_entries(runtime.suppressions(), caller, request.entries, SuppressionReason.MANUAL, now)
    )
    return answer(200, SuppressionsAdded(added=added, entries=[SuppressedView.of(i) for i in identities]))


@router.delete(
    "/suppressions/<key>",
    operation_id="removeSuppression",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "Remove an entry from the workspace's own list (its `key`, as listed or as POST answered). The "
        "workspace's jobs may then find that address, person or domain again, unless the service-wide list "
        "holds them."
    ),
    responses=responses(
        {
            200: body(SuppressionRemoved, "The entry was removed"),
            404: body(
                ErrorBody,
                "No such key on the workspace's list (another workspace's entries, and the service-wide "
                "list's, are not found either)",
            ),
        },
        *KEYED,
    ),
)
def remove_suppression(key: str) -> Response[str]:
    caller = workspace(router.current_event)
    key = unquote(key)  # `d%3Aacme.com` as a client may encode it; no key holds a `%` of its own
    if len(key) > 300 or not run(runtime.suppressions().remove(caller, key)):
        return error(404, "no such entry on the workspace's suppression list")
    return answer(200, SuppressionRemoved(key=key, removed=True))
