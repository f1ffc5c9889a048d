"""What the `/contacts` routes take and answer (docs/privacy.md "Contact approval"), as typed models: the
OpenAPI document is generated from them. A contact shows its address as a job's items show one
(`jobs.views.EmailView`, with its `review` state), so a client reads both with one model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadenrich.engine.models import Lead
from leadenrich.jobs.views import EmailView, View
from leadenrich.privacy import review
from leadenrich.privacy.contacts import MAX_PER_REQUEST, Outcome, ReviewedContact

ContactId = Annotated[
    str,
    Field(
        max_length=200,
        pattern=review.CONTACT_ID_PATTERN,
        description="`{job_id}.{item_id}.{n}.{tag}`: address `n` of a job's item; `tag` names the address "
        "(from its keyed hash), so an id never points at another address of the item",
    ),
]


class ContactView(View):
    contact_id: str = Field(description="pass to POST /contacts/{contact_id}/approve or /reject")
    job_id: str
    item_id: str
    lead: Lead = Field(description="the item's lead as given; fields it did not have are left out")
    email: EmailView = Field(description="the address, with its `review` state and lawful basis")
    lead_id: str | None = Field(default=None, description="the stored lead's id (with Supabase only)")
    region_flag: str | None = Field(default=None, description="the lead's country, in the flagged_countries")

    @classmethod
    def of(cls, contact: ReviewedContact) -> ContactView:
        item = contact.item
        fields: dict[str, Any] = {"lead_id": item.lead_id} if item.lead_id is not None else {}
        flag = (item.result or {}).get(review.REGION_FLAG_KEY)
        fields |= {"region_flag": flag} if flag else {}
        return cls(
            contact_id=contact.contact_id,
            job_id=item.job_id,
            item_id=item.item_id,
            lead=Lead.model_construct(**item.lead.model_dump(exclude_none=True)),  # only its set fields
            email=EmailView.model_validate(contact.address),
            **fields,
        )


class ContactsPage(View):
    contacts: list[ContactView] = Field(description="by job, item and place in the item")
    cursor: str | None = Field(description="pass back as `cursor` for the next page; null on the last")


class ReviewRequest(BaseModel):
    """`POST /contacts/review`: decisions on many contacts at once."""

    model_config = ConfigDict(extra="forbid")

    approve: list[ContactId] = Field(default_factory=list, max_length=MAX_PER_REQUEST)
    reject: list[ContactId] = Field(default_factory=list, max_length=MAX_PER_REQUEST)


class ReviewResultView(View):
    contact_id: str
    outcome: Literal["approved", "rejected", "not_found", "conflict"] = Field(
        description="approved or rejected (now, or already); not_found (no such contact in the workspace); "
        "conflict (decided the other way already, or never held for review)"
    )
    message: str | None = Field(description="why, for not_found and conflict")

    @classmethod
    def of(cls, outcome: Outcome) -> ReviewResultView:
        return cls(contact_id=outcome.contact_id, outcome=outcome.outcome, message=outcome.message)


class ReviewView(View):
    results: list[ReviewResultView] = Field(
        description="one per contact: approvals first, in the order given"
    )


__all__ = ["ContactId", "ContactView", "ContactsPage", "ReviewRequest", "ReviewResultView", "ReviewView"]
