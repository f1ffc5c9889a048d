"""The lead buffer (docs/buffer.md): `POST /buffer/push`, `POST /buffer/next`, `GET /leads` (the served
leads) and `GET/PUT /cursor/{namespace}` (the caller's pagination state). The workspace comes from the API
key, never a parameter. Pushes, serves and reads of served leads are recorded in the audit trail (counts and
ids, never a name or an address); a cursor holds no personal data, and reading it is not recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api_audit import Audited, Exchange, register
from api_context import answer, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from api_routes.audit import IsoDateTime, QueryRejected, utc_query_time
from leadenrich import runtime
from leadenrich.buffer.models import NAMESPACE_PATTERN, EnrichmentStatus, ServedQuery
from leadenrich.buffer.requests import CursorRequest, NextRequest, PushRequest
from leadenrich.buffer.views import CursorView, LeadsPage, NextView, PushView
from leadenrich.http_errors import ErrorBody

router = new_router()

PUSH_EXAMPLES = {
    "leads": Example(
        summary="A company, a person at a company, and an address",
        value={
            "namespace": "campaign-2026-q3",
            "leads": [
                {"domain": "acme-robotics.com", "company_name": "Acme Robotics"},
                {"domain": "globex-analytics.io", "first_name": "Grace", "last_name": "Hopper"},
                {"email": "ada@initech.example", "external_id": "crm-42", "data": {"list": "webinar"}},
            ],
        },
    )
}
NEXT_EXAMPLES = {
    "run": Example(
        summary="The next lead for a run (retried: the same lead)",
        value={"namespace": "campaign-2026-q3", "parent_run_id": "run_8f2c1d"},
    )
}
CURSOR_EXAMPLES = {
    "page": Example(summary="A page and an offset", value={"state": {"page": 5, "offset": 100}})
}
# A namespace with a character Powertools' path pattern does not take (outside letters, digits and a few
# marks) matches no route: the function's 404, documented with the routes it belongs to.
NOT_A_NAMESPACE = body(
    ErrorBody,
    "The path's namespace holds a character no namespace can have (namespaces are letters, digits and "
    "`. _ : -`): no such route",
)
NamespacePath = Annotated[
    str, Path(min_length=1, max_length=100, pattern=NAMESPACE_PATTERN, description="the namespace")
]


def _pushed(exchange: Exchange) -> dict[str, Any]:
    return {name: exchange.response.get(name) for name in ("buffered", "skipped_already_served")}


def _namespace(exchange: Exchange) -> str:
    return str(exchange.request.get("namespace", ""))


def _served_lead(exchange: Exchange) -> str:
    lead = exchange.response.get("lead")
    return str(lead.get("lead_id", "")) if isinstance(lead, dict) else ""


def _next(exchange: Exchange) -> dict[str, Any]:
    return {
        "namespace": exchange.request.get("namespace"),
        "parent_run_id": exchange.request.get("parent_run_id"),
        "found": exchange.response.get("found"),
    }


def _listed(exchange: Exchange) -> dict[str, Any]:
    leads = exchange.response.get("leads")
    return {
        "leads": len(leads) if isinstance(leads, list) else 0,
        "namespace": exchange.request.get("namespace"),
        "page": "next" if exchange.request.get("cursor") else "first",
    }


register("POST", "/buffer/push", Audited("buffer.push", target=_namespace, detail=_pushed))
register("POST", "/buffer/next", Audited("buffer.next", target=_served_lead, detail=_next))
register("GET", "/leads", Audited("leads.read", target=lambda _e: "", detail=_listed))
register("PUT", "/cursor/{namespace}", Audited("cursor.put"))


@router.post(
    "/buffer/push",
    operation_id="pushLeads",
    security=API_KEY,
    tags=["buffer"],
    description=(
        "Push 1 to 1,000 leads into a namespace's buffer (a campaign: letters, digits and `. _ : -`). A lead "
        "is a company (`domain`), a person at a company (`first_name` and `last_name` with `domain`) or an "
        "address (`email`), with the caller's `data` (a JSON object up to 4,096 characters) kept as given. "
        "Leads the namespace served before are skipped (`skipped_already_served`), as are leads already "
        "waiting in it (`skipped_already_buffered`: one lead is the same address, the same person at the "
        "same domain, or the same company) and leads on a suppression list (`skipped_suppressed`: not "
        "stored). Nothing is enriched or paid for here. A bad lead is a 422 naming it "
        "(`body.leads.3.domain`), and nothing is buffered."
    ),
    responses=responses({200: body(PushView, "What was buffered and what was skipped, by reason")}, *KEYED),
)
def push_leads(request: Annotated[PushRequest, Body(openapi_examples=PUSH_EXAMPLES)]) -> Response[str]:
    result = run(runtime.buffer_service().push(workspace(router.current_event), request))
    return answer(200, PushView.of(result))


@router.post(
    "/buffer/next",
    operation_id="nextLead",
    security=API_KEY,
    tags=["buffer"],
    description=(
        "Serve the namespace's oldest waiting lead to this call, and to no other: `found: false` when none "
        "is left. A lead without an active (verified) address is enriched first: the enrichment waterfall "
        "for a company or a person, Hunter's verifier for a pushed address, within about 20 seconds, on the "
        "workspace's monthly credit budget; what cannot finish in time is served with `enrichment_status: "
        "deferred` rather than failing the call. With `parent_run_id` a retried call gets the same lead back "
        "(one lead per run and namespace). A lead claimed by a caller that died is served again once its "
        "60-second lease has run out. A suppressed company, person or address is never served: it is "
        "dropped and the next lead is served instead."
    ),
    responses=responses({200: body(NextView, "The lead served (enriched), or found: false")}, *KEYED),
)
def next_lead(request: Annotated[NextRequest, Body(openapi_examples=NEXT_EXAMPLES)]) -> Response[str]:
    record = run(runtime.buffer_service().next(workspace(router.current_event), request))
    return answer(200, NextView.of(record))


@router.get(
    "/leads",
    operation_id="listLeads",
    security=API_KEY,
    tags=["buffer"],
    description=(
        "The workspace's served leads with their enrichment, newest first, in pages. Filters combine: "
        "`namespace`, `enrichment_status`, `since` (served at or after, inclusive) and `until` (before, "
        "exclusive). A `cursor` continues the listing it came from, with the same filters (another is a 422 "
        "naming `query.cursor`)."
    ),
    responses=responses({200: body(LeadsPage, "A page of served leads, newest first")}, *KEYED),
)
def list_leads(
    namespace: Annotated[str | None, Query(min_length=1, max_length=100, pattern=NAMESPACE_PATTERN)] = None,
    enrichment_status: Annotated[EnrichmentStatus | None, Query()] = None,
    since: Annotated[IsoDateTime | None, Query(description="served at or after this time")] = None,
    until: Annotated[IsoDateTime | None, Query(description="served before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    begin: datetime | None = utc_query_time("since", since)
    end: datetime | None = utc_query_time("until", until)
    if begin is not None and end is not None and begin >= end:
        raise QueryRejected("until", "must be after since")
    query = ServedQuery(
        workspace_id=workspace(router.current_event),
        namespace=namespace,
        enrichment_status=enrichment_status,
        since=begin,
        until=end,
        limit=limit,
        cursor=cursor,
    )
    return answer(200, LeadsPage.of(run(runtime.buffer_service().served(query))))


@router.get(
    "/cursor/<namespace>",
    operation_id="getCursor",
    security=API_KEY,
    tags=["buffer"],
    description=(
        "The pagination state the caller stored for the namespace (`PUT`), opaque to the service; "
        "`state: null` when none was stored."
    ),
    responses=responses(
        {200: body(CursorView, "The namespace's stored state"), 404: NOT_A_NAMESPACE}, *KEYED
    ),
)
def get_cursor(namespace: NamespacePath) -> Response[str]:
    cursor = run(runtime.buffer_service().cursor(workspace(router.current_event), namespace))
    return answer(200, CursorView.of(namespace, cursor))


@router.put(
    "/cursor/<namespace>",
    operation_id="putCursor",
    security=API_KEY,
    tags=["buffer"],
    description=(
        "Store (replace) the namespace's pagination state: any JSON object up to 16,384 characters, read "
        "back as it was stored by `GET`."
    ),
    responses=responses(
        {200: body(CursorView, "The namespace's state, as stored"), 404: NOT_A_NAMESPACE}, *KEYED
    ),
)
def put_cursor(
    namespace: NamespacePath, request: Annotated[CursorRequest, Body(openapi_examples=CURSOR_EXAMPLES)]
) -> Response[str]:
    stored = run(
        runtime.buffer_service().put_cursor(workspace(router.current_event), namespace, request.state)
    )
    return answer(200, CursorView.of(namespace, stored))
