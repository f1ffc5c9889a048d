"""What the buffer's routes and `POST /enrich` answer, as the job routes' views do (`jobs.views.View`: every
field declared; fields never set are left out of the body, `jobs.views.dump`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from leadenrich.buffer.models import BufferState, CursorState, EnrichmentStatus, LeadRecord
from leadenrich.buffer.person import PersonAnswer
from leadenrich.buffer.service import PushResult
from leadenrich.engine.models import LeadStatus
from leadenrich.jobs.models import Page
from leadenrich.jobs.views import EmailView, IsoTime, View


class PushView(View):
    buffered: int = Field(ge=0, description="leads added to the namespace's buffer")
    skipped_already_served: int = Field(ge=0, description="leads the namespace served before: never again")
    skipped_already_buffered: int = Field(
        ge=0, description="leads waiting in the buffer already (or sent twice in this push)"
    )
    skipped_suppressed: int = Field(
        ge=0, description="leads whose company, person or address is on a suppression list: not stored"
    )

    @classmethod
    def of(cls, result: PushResult) -> PushView:
        return cls(
            buffered=result.buffered,
            skipped_already_served=result.skipped_already_served,
            skipped_already_buffered=result.skipped_already_buffered,
            skipped_suppressed=result.skipped_suppressed,
        )


class LeadView(View):
    """A lead record: the lead as pushed, where it is in the buffer, and its enrichment (seed 002's fields,
    and the addresses found, best first)."""

    lead_id: str
    namespace: str
    state: BufferState = Field(description="buffered, claimed (being served) or served")
    domain: str
    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(default=None, description="the address the lead was pushed with")
    external_id: str | None = None
    data: dict[str, Any] | None = Field(default=None, description="the caller's data, as pushed")
    pushed_at: IsoTime
    served_at: IsoTime | None
    parent_run_id: str | None = Field(description="the run it was served to")
    enrichment_status: EnrichmentStatus = Field(
        description="pending (never run), completed (a verdict: see enrichment_outcome), failed (a provider "
        "refused: key or quota), deferred (not finished in the call's time, a provider asked to wait, or "
        "the workspace's budget was reached)"
    )
    enriched_at: IsoTime | None
    enrichment_error: str | None = Field(description="why it failed or was deferred")
    sources_used: list[str] = Field(description="providers that answered (a call or a cached answer)")
    sources_failed: list[str] = Field(description="the provider whose problem stopped it")
    enrichment_outcome: LeadStatus | None = Field(
        description="the engine's verdict: found (a verified address), risky, not_found, invalid, failed, "
        "deferred; null before any run"
    )
    emails: list[EmailView] = Field(description="addresses found (or the pushed one, graded), best first")

    @classmethod
    def of(cls, record: LeadRecord) -> LeadView:
        lead, enrichment = record.lead, record.enrichment
        outcome = str((enrichment.result or {}).get("status"))
        optional = {
            name: value
            for name, value in (
                ("company_name", lead.company_name),
                ("first_name", lead.first_name),
                ("last_name", lead.last_name),
                ("email", lead.email),
                ("external_id", lead.external_id),
                ("data", record.data),
            )
            if value is not None
        }
        return cls(
            lead_id=record.lead_id,
            namespace=record.namespace,
            state=record.state,
            domain=lead.domain,
            pushed_at=record.pushed_at,
            served_at=record.served_at,
            parent_run_id=record.parent_run_id,
            enrichment_status=enrichment.status,
            enriched_at=enrichment.enriched_at,
            enrichment_error=enrichment.error,
            sources_used=list(enrichment.sources_used),
            sources_failed=list(enrichment.sources_failed),
            enrichment_outcome=LeadStatus(outcome) if outcome in LeadStatus._value2member_map_ else None,
            emails=[EmailView.model_validate(e) for e in enrichment.emails],
            **optional,
        )


class NextView(View):
    found: bool = Field(description="false when the namespace has no lead left to serve")
    lead: LeadView | None = Field(default=None, description="the lead served (absent when found is false)")

    @classmethod
    def of(cls, record: LeadRecord | None) -> NextView:
        return cls(found=False) if record is None else cls(found=True, lead=LeadView.of(record))


class LeadsPage(View):
    leads: list[LeadView] = Field(description="served leads, newest first")
    cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")

    @classmethod
    def of(cls, page: Page[LeadRecord]) -> LeadsPage:
        return cls(leads=[LeadView.of(r) for r in page.items], cursor=page.cursor)


class CursorView(View):
    namespace: str
    state: dict[str, Any] | None = Field(description="what was stored; null when nothing was")
    updated_at: IsoTime | None

    @classmethod
    def of(cls, namespace: str, cursor: CursorState | None) -> CursorView:
        if cursor is None:
            return cls(namespace=namespace, state=None, updated_at=None)
        return cls(namespace=namespace, state=cursor.state, updated_at=cursor.updated_at)


class PersonView(View):
    """Who an address belongs to, as the provider knows them; `found` false when it does not (or the person
    is suppressed)."""

    email: str
    found: bool
    cached: bool = Field(description="true when answered from the cache: nothing was paid for it")
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    role: str | None = Field(default=None, description="the department (executive, sales, it...)")
    seniority: str | None = None
    company_name: str | None = None
    company_domain: str | None = None
    location: str | None = None
    country_code: str | None = None
    linkedin_url: str | None = None
    twitter: str | None = None

    @classmethod
    def of(cls, answer: PersonAnswer) -> PersonView:
        found = answer.profile is not None
        profile = answer.profile.model_dump(exclude={"email"}, exclude_none=True) if answer.profile else {}
        return cls(email=answer.email, found=found, cached=answer.cached, **profile)


__all__ = ["CursorView", "LeadView", "LeadsPage", "NextView", "PersonView", "PushView"]
