"""`POST /leads`' body and answer (docs/auto-enrichment.md): one lead or up to 1,000, validated as POST /jobs
validates inline leads, each error naming its field (`body.leads.3.domain`)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leadenrich.engine.models import Lead
from leadenrich.jobs.control_requests import check_tags
from leadenrich.jobs.lead_intake import Intake, request_fingerprint
from leadenrich.jobs.requests import JobLead
from leadenrich.jobs.views import View

MAX_LEADS_PER_REQUEST = 1000


class CreateLeadsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead: JobLead | None = Field(default=None, description="One lead (or `leads`, not both).")
    leads: list[JobLead] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LEADS_PER_REQUEST,
        description="1 to 1,000 leads, in one job. With Supabase each is matched to a stored lead (by "
        "external_id, else by domain and name) or added to `leads`.",
    )
    priority: int = Field(default=3, ge=1, le=5, description="the job's priority, 1 (highest) to 5")
    tags: list[str] = Field(default_factory=list, max_length=10, description="the job's tags")

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return check_tags(tags)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.lead is None) == (self.leads is None):
            raise ValueError("give exactly one of 'lead' or 'leads'")
        return self

    def all_leads(self) -> list[Lead]:
        given = self.leads if self.leads is not None else [self.lead] if self.lead is not None else []
        return [Lead.model_validate(lead.model_dump()) for lead in given]

    def fingerprint(self) -> str:
        """One lead or a list of one are the same request."""
        body = self.model_dump(mode="json", exclude={"lead", "leads"})
        return request_fingerprint(
            body | {"leads": [lead.model_dump(mode="json") for lead in self.all_leads()]}
        )


class LeadOutcomeView(View):
    index: int = Field(ge=0, description="the lead's position in the request")
    lead_id: str | None = Field(
        description="the stored lead (Supabase `leads.id`); null without Supabase, where a lead lives in "
        "its job's item"
    )
    outcome: Literal["created", "duplicate"] = Field(
        description="`created`: a new lead; `duplicate`: the same lead as a stored one (or an earlier one of "
        "this request), which takes the values given"
    )
    enqueued: bool = Field(description="in this request's job")
    reason: Literal["pending", "recent", "repeated"] | None = Field(
        description="why not enqueued: `pending` (in a job already), `recent` (enriched within the "
        "workspace's `reenrich_after_days`), `repeated` (given earlier in this request)"
    )


class LeadsAcceptedView(View):
    job_id: str | None = Field(
        description="the job enriching the enqueued leads (`/jobs/{job_id}`); null when none was"
    )
    replayed: bool = Field(description="an earlier request with this Idempotency-Key made the job")
    created: int | None = Field(description="new leads (null for a replay)")
    duplicates: int | None = Field(description="leads that were stored already (null for a replay)")
    enqueued: int = Field(description="leads in the job")
    leads: list[LeadOutcomeView] = Field(
        description="each lead's outcome, in request order (empty for a replay)"
    )

    @classmethod
    def of(cls, intake: Intake) -> LeadsAcceptedView:
        outcomes = [
            LeadOutcomeView(
                index=o.index, lead_id=o.lead_id, outcome=o.outcome, enqueued=o.enqueued, reason=o.reason
            )
            for o in intake.leads
        ]
        return cls(
            job_id=intake.job.job_id if intake.job else None,
            replayed=intake.replayed,
            created=None if intake.replayed else sum(o.outcome == "created" for o in intake.leads),
            duplicates=None if intake.replayed else sum(o.outcome == "duplicate" for o in intake.leads),
            enqueued=intake.job.counters.total if intake.job else 0,
            leads=outcomes,
        )


__all__ = ["MAX_LEADS_PER_REQUEST", "CreateLeadsRequest", "LeadOutcomeView", "LeadsAcceptedView"]
