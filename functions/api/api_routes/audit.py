"""`GET /audit`: the workspace's audit trail (docs/privacy.md "Audit trail"), newest first, filtered and in
pages. A workspace reads its own entries only: the workspace comes from the API key, never a parameter.
Reading the trail is not itself recorded (`api_audit`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BeforeValidator

from api_context import answer, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.jobs.errors import RequestRejected
from leadenrich.privacy.audit_views import AuditEntryView, AuditPage
from leadenrich.privacy.ports import AuditQuery

router = new_router()


class QueryRejected(RequestRejected):
    """A query parameter refused by the route itself (422 naming `query.<name>`)."""

    location = "query"


def _iso_only(value: object) -> object:
    """A time as the document says (`date-time`): pydantic would also take a number of seconds."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("an ISO 8601 date-time, for example 2026-12-07T09:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


def utc_query_time(name: str, value: datetime | None) -> datetime | None:
    """The time in UTC (one without a zone is taken as UTC, as everywhere in the API); a 422 naming the
    parameter when it has no UTC equivalent (year 1 at +01:00, year 9999 at -01:00)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise QueryRejected(name, "is out of range") from None


@router.get(
    "/audit",
    operation_id="listAudit",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "The workspace's audit trail, newest first: every data-changing action and every read of results "
        "(job items), who did it (the API key's id, never the key), on what, when and from where. Filters "
        "combine: `action`, `job_id`, `target`, `actor` (exact), `since` (inclusive) and `until` "
        "(exclusive). A `cursor` continues the listing it came from, with the same filters (another is a "
        "422 naming `query.cursor`). Entries are kept for the workspace's audit retention (a year by "
        "default) and can be neither changed nor deleted through the API. Reading the trail is not recorded."
    ),
    responses=responses(
        {200: body(AuditPage, "A page of the workspace's audit entries, newest first")}, *KEYED
    ),
)
def list_audit(
    action: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    job_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    target: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    since: Annotated[IsoDateTime | None, Query(description="entries at or after this time")] = None,
    until: Annotated[IsoDateTime | None, Query(description="entries before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    since, until = utc_query_time("since", since), utc_query_time("until", until)
    if since is not None and until is not None and since >= until:
        raise QueryRejected("until", "must be after since")
    query = AuditQuery(
        workspace_id=workspace(router.current_event),
        action=action,
        target=target,
        job_id=job_id,
        actor=actor,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    page = run(runtime.audit_log().query(query))
    return answer(200, AuditPage(entries=[AuditEntryView.of(e) for e in page.items], cursor=page.cursor))
