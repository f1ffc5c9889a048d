"""`POST /erasures`: erase a person (by address, or a stored lead's id or external id) or a company's domain
from everything the workspace and the service keep, suppress them so they are not collected again, and
answer a receipt (`leadenrich.privacy.erasure`; docs/privacy.md "Erasure").

Recorded in the audit trail as `erasure.create` with the request's hashed identity as target and the
counts per place as detail (`api_audit.note`): never the address itself.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body

from api_audit import Audited, Exchange, note, register
from api_context import answer, new_router, run, workspace
from api_responses import API_KEY, KEYED, body, responses
from leadenrich import runtime
from leadenrich.privacy.erasure_views import ErasureRequest, ErasureView

router = new_router()

EXAMPLES = {
    "email": Example(summary="A person, by address", value={"email": "ada@acme-robotics.com"}),
    "domain": Example(summary="A company, by domain", value={"domain": "acme-robotics.com"}),
    "lead_id": Example(
        summary="A stored lead (Supabase)", value={"lead_id": "7d6c3f7e-0b7e-4c7e-9a51-2f0e8c1a4b10"}
    ),
    "external_id": Example(summary="A lead, by your id", value={"external_id": "crm-1"}),
}


def _noted_only(_exchange: Exchange) -> str:
    return ""  # the route notes the hashed identity itself


register("POST", "/erasures", Audited("erasure.create", target=_noted_only))


@router.post(
    "/erasures",
    operation_id="createErasure",
    security=API_KEY,
    tags=["privacy"],
    status_code=201,
    description=(
        "Erase a person or a company from the workspace's data and the service's shared records, and "
        "suppress them so no job collects them again. Exactly one of `email` (the address, and the person "
        "it belongs to when their name is known), `domain` (everyone at the company, and its cached "
        "answers), `lead_id` (a stored lead: Supabase only, else 422) or `external_id` (your id of a "
        "lead). Removes the person's addresses and names from the workspace's job items (each item "
        "keeps its status, so job counters stay true, and its reason becomes `erased`), from cached "
        "provider answers and webhook records, and from Supabase `emails` and `leads` (the lead row stays, "
        "without first name, last name and external id). An address or person goes on the workspace's "
        "suppression list and the service-wide one (the person's right holds against the whole service); "
        "a domain on the workspace's only. Another workspace's data is untouched. The receipt says what "
        "was erased where, the person masked and by their suppression keys only. Idempotent: a repeat "
        'answers 200 with what was still found (usually nothing). docs/privacy.md, "Erasure".'
    ),
    responses=responses(
        {
            201: body(ErasureView, "Erased and suppressed: the receipt"),
            200: body(ErasureView, "Erased again: the person was suppressed already (a repeat)"),
        },
        *KEYED,
        415,
    ),
)
def create_erasure(request: Annotated[ErasureRequest, Body(openapi_examples=EXAMPLES)]) -> Response[str]:
    target = request.target()
    receipt = run(runtime.erasure_service().erase(workspace(router.current_event), target))
    note(
        router,
        target=target.audit_key,
        erasure_id=receipt.erasure_id,
        kind=target.kind.value,
        places=receipt.counts(),
        new_suppressions=receipt.new_entries,
    )
    return answer(201 if receipt.first_time else 200, ErasureView.of(receipt))
