"""`/contacts`: the approval workflow (docs/privacy.md "Contact approval"). With the workspace's
`review_required` on, the addresses its enrichment jobs find wait here, held out of `GET /jobs/{id}/items`,
the CLI's result files and Supabase `emails` until a reviewer approves them (then they are shown and
written) or rejects them (then they never are).

`GET /contacts?review=pending` is the queue; `POST /contacts/{contact_id}/approve` and `/reject` decide one
contact, `POST /contacts/review` many. A contact id names one address of one item of the workspace's jobs
(`privacy.review`); another workspace's contacts are not found."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api_audit import Audited, Exchange, register
from api_context import answer, error, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.http_errors import ErrorBody
from leadenrich.jobs.models import ReviewState
from leadenrich.privacy.contact_views import (
    ContactsPage,
    ContactView,
    ReviewRequest,
    ReviewResultView,
    ReviewView,
)
from leadenrich.privacy.contacts import ContactConflict, ContactNotFound
from leadenrich.privacy.review import CONTACT_ID_PATTERN, parse_contact_id

router = new_router()
ContactIdPath = Annotated[
    str, Path(max_length=200, pattern=CONTACT_ID_PATTERN, description="a contact id, from GET /contacts")
]

EXAMPLES = {
    "decide": Example(
        summary="Approve two contacts, reject one",
        value={
            "approve": ["job_0a1b.000000.0.3f2a9c1b", "job_0a1b.000003.0.77d0e412"],
            "reject": ["job_0a1b.000000.1.c09e5b27"],
        },
    )
}


def _job_of_contact(exchange: Exchange) -> str | None:
    """The job a contact id names (its first part): the audit entry's job."""
    return exchange.params.get("contact_id", "").partition(".")[0] or None


def _decided(exchange: Exchange) -> dict[str, Any]:
    """The audit entry's detail: the contact ids (job, item, place and a hash tag: no address) per outcome."""
    results = exchange.response.get("results") or []
    by: dict[str, list[str]] = {}
    for result in results:
        if isinstance(result, dict):
            by.setdefault(str(result.get("outcome")), []).append(str(result.get("contact_id")))
    return by


def _listed(exchange: Exchange) -> dict[str, Any]:
    contacts = exchange.response.get("contacts")
    return {"contacts": len(contacts) if isinstance(contacts, list) else 0}


register("GET", "/contacts", Audited("contacts.read", target=lambda _e: "", detail=_listed))
register("POST", "/contacts/{contact_id}/approve", Audited("contact.approve", job_id=_job_of_contact))
register("POST", "/contacts/{contact_id}/reject", Audited("contact.reject", job_id=_job_of_contact))
register("POST", "/contacts/review", Audited("contacts.review", target=lambda _e: "", detail=_decided))

DECIDED = {
    200: body(ContactView, "The contact as it is now (also when it had this decision already)"),
    404: body(ErrorBody, "No such contact in the workspace (another workspace's are not found either)"),
    409: body(
        ErrorBody,
        "The contact was decided the other way already (a decision is not changed), or its address was "
        "never held for review: `field` is `path.contact_id`",
    ),
}


@router.get(
    "/contacts",
    operation_id="listContacts",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "The review queue: the addresses the workspace's jobs found while `review_required` was on and no "
        "one has decided yet, each with its lead and contact id, by job, item and place. A page ends on a "
        "whole item (at least one, whatever `limit`). Empty when the workspace never asked for review."
    ),
    responses=responses({200: body(ContactsPage, "A page of the review queue")}, *KEYED),
)
def list_contacts(
    review: Annotated[
        Literal["pending"], Query(description="the queue: contacts pending review")
    ] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[str]:
    page = run(runtime.contact_review().queue(workspace(router.current_event), limit=limit, cursor=cursor))
    return answer(200, ContactsPage(contacts=[ContactView.of(c) for c in page.items], cursor=page.cursor))


def _decide(contact_id: str, decision: ReviewState) -> Response[str]:
    caller = workspace(router.current_event)
    try:
        parse_contact_id(contact_id)
    except ValueError as exc:
        return error(422, str(exc).removeprefix("contact_id: "), "path.contact_id")
    try:
        contact = run(runtime.contact_review().decide(caller, contact_id, decision))
    except ContactNotFound as exc:
        return error(404, str(exc))
    except ContactConflict as exc:
        return error(409, str(exc), "path.contact_id")
    return answer(200, ContactView.of(contact))


@router.post(
    "/contacts/<contact_id>/approve",
    operation_id="approveContact",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "Approve one contact: its address is shown in its job's items from now on and, when the item has a "
        "stored lead, written to Supabase `emails` (`review: approved`, with its lawful basis). Approving "
        "an approved contact changes nothing (and writes it to Supabase again if an earlier write failed)."
    ),
    responses=responses(DECIDED, *KEYED),
)
def approve_contact(contact_id: ContactIdPath) -> Response[str]:
    return _decide(contact_id, ReviewState.APPROVED)


@router.post(
    "/contacts/<contact_id>/reject",
    operation_id="rejectContact",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "Reject one contact: its address is never shown in its job's items, exported or written to Supabase. "
        "Rejecting a rejected contact changes nothing; an approved one cannot be rejected here (409)."
    ),
    responses=responses(DECIDED, *KEYED),
)
def reject_contact(contact_id: ContactIdPath) -> Response[str]:
    return _decide(contact_id, ReviewState.REJECTED)


@router.post(
    "/contacts/review",
    operation_id="reviewContacts",
    security=API_KEY,
    tags=["privacy"],
    description=(
        "Decide many contacts at once: `approve` and `reject`, up to 100 contact ids each. Answers 200 with "
        "one result per contact, approvals first, a repeated id once: `approved` or `rejected` (now or "
        "already), `not_found`, or `conflict` (with why: a contact in both lists is approved, then its "
        "rejection is a conflict); one contact's refusal does not stop the others."
    ),
    responses=responses({200: body(ReviewView, "One result per contact")}, *KEYED),
)
def review_contacts(request: Annotated[ReviewRequest, Body(openapi_examples=EXAMPLES)]) -> Response[str]:
    caller = workspace(router.current_event)
    outcomes = run(runtime.contact_review().decide_many(caller, request.approve, request.reject))
    return answer(200, ReviewView(results=[ReviewResultView.of(o) for o in outcomes]))
