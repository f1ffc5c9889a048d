"""What the API answers about jobs and their items, as typed models: the OpenAPI document is generated from
them, the handlers serialise them (`dump`), and the tests hold real answers to the document, so a client
generated from it reads what the API sends. The job callbacks' body (`JobEvent`) is built from `JobView`
too, so an answer and a callback can never disagree about a job.

The bodies are byte for byte what the API sent before it was typed: fields in the order it used, times as
`datetime.isoformat()`, and fields that are sometimes absent (`lead_id`, `selection`, `callbacks`, an old
address's `deliverability`) left out rather than sent as null: `dump` leaves out what was not set.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from leadenrich.engine.models import (
    Contact,
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    HunterStatus,
    Lead,
    Method,
)
from leadenrich.jobs.company_views import CompanyView, ResolutionView, company_fields
from leadenrich.jobs.models import (
    Item,
    ItemStatus,
    Job,
    JobEventType,
    JobKind,
    JobStatus,
    LawfulBasis,
    ReviewState,
    WebhookEvent,
)
from leadenrich.privacy import review
from leadenrich.uploads.models import UploadState

# A time as the API has always written it (`isoformat()`: `+00:00`, microseconds when there are some).
IsoTime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class View(BaseModel):
    """A response body: every field declared (a client's model can forbid the rest)."""

    model_config = ConfigDict(extra="forbid")


def dump(view: BaseModel) -> str:
    """The body as the API sends it: JSON of the fields that were set, in declaration order."""
    return json.dumps(view.model_dump(mode="json", exclude_unset=True, by_alias=True))


class EmailView(View):
    """One address of a finished item (`FoundEmail.as_record`, in its order)."""

    email: str
    source: EmailSource
    confidence_score: int = Field(ge=0, le=100)
    email_type: EmailType
    hunter_status: HunterStatus
    status: EmailStatus = Field(description="active exactly when deliverability is verified")
    verified_at: IsoTime | None
    method: Method
    person: str | None
    position: str | None
    deliverability: Deliverability | None = Field(
        default=None,
        description="verified | high_probability | catch_all | unknown | undeliverable "
        "(docs/engine.md, 'Deliverability tiers'); absent only in results stored before grades existed",
    )
    contact: Contact | None = Field(
        default=None, description="whom it reaches; absent only in results stored before it existed"
    )
    lawful_basis: LawfulBasis | None = Field(default=None, description="its job's; absent in older results")
    review: ReviewState | None = Field(
        default=None, description="absent: no review asked; in a job's items only `approved` ones are shown"
    )


class ItemView(View):
    item_id: str
    status: ItemStatus = Field(
        description="found: a verified address; risky: only unverifiable ones (catch-all domain, or a "
        "mail server that would not answer); not_found, invalid, failed, skipped, dead; queued, running "
        "and deferred while it waits"
    )
    attempts: int
    reason: str | None
    lead: Lead = Field(description="the lead as given; fields it did not have are left out")
    emails: list[EmailView]
    lead_id: str | None = Field(default=None, description="the stored lead's id (with Supabase only)")
    held_for_review: int | None = Field(default=None, description="pending addresses, shown once approved")
    withheld: int | None = Field(
        default=None, description="addresses stored before they were suppressed (a 451, an erasure), left out"
    )
    region_flag: str | None = Field(default=None, description="the lead's country, in the flagged_countries")
    company: CompanyView | None = Field(
        default=None, description="the lead's company, when its job asked for company_data and it was found"
    )
    resolution: ResolutionView | None = Field(
        default=None, description="how a lead with only a company name got its domain, or why it did not"
    )

    @classmethod
    def from_item(cls, item: Item) -> ItemView:
        """Pending and rejected addresses held back (`privacy.review.shown`); absent fields left out."""
        shown, held = review.shown(item.result)
        emails = [EmailView.model_validate(record) for record in shown]
        flag = (item.result or {}).get(review.REGION_FLAG_KEY)
        fields: dict[str, Any] = {"lead_id": item.lead_id} if item.lead_id is not None else {}
        withheld = (item.result or {}).get("withheld")  # `privacy.withholding` counts them on the way out
        fields |= ({"held_for_review": held} if held else {}) | ({"region_flag": flag} if flag else {})
        fields |= company_fields(item.result)  # docs/company-data.md
        fields |= {"withheld": withheld} if withheld else {}
        return cls(
            item_id=item.item_id,
            status=item.status,
            attempts=item.attempts,
            reason=item.reason,
            lead=Lead.model_construct(**item.lead.model_dump(exclude_defaults=True)),  # only its set fields
            emails=emails,
            **fields,
        )


class ItemsPage(View):
    items: list[ItemView]
    cursor: str | None = Field(description="pass back as `cursor` for the next page; null on the last")


class JobOptionsView(View):
    priority: int = Field(ge=1, le=5, description="1 (highest) to 5")
    max_attempts: int
    skip_existing: bool
    webhook_url: str | None
    webhook_events: list[WebhookEvent]
    tags: list[str]
    queue_window: int | None = Field(description="items in the queue at a time; null: all at once")
    run_at: IsoTime | None = Field(default=None, description="scheduled start; null: at once")
    max_credits: float | None = Field(default=None, description="Hunter credits cap; null: none")
    max_cost_usd: float | None = Field(default=None, description="Perplexity dollars cap; null: none")
    lawful_basis: LawfulBasis = Field(description="recorded with the job and every address it stores")
    company_data: bool | None = Field(
        default=None, description="true: each lead's company is fetched too; absent: not asked"
    )


class JobCountersView(View):
    total: int
    processed: int = Field(description="items in a terminal state")
    found: int = Field(description="items with a verified address")
    risky: int = Field(description="items with only unverifiable addresses")
    failed: int = Field(description="failed and dead items")
    created_emails: int
    api_calls_hunter: int
    api_calls_perplexity: int
    processing_time_seconds: float


class JobCostView(View):
    hunter_credits: float
    perplexity_usd: float


class JobLinks(View):
    self: str = Field(description="this job: GET it")
    items: str = Field(description="its items and their addresses")

    @classmethod
    def of(cls, job_id: str) -> JobLinks:
        return cls(self=f"/jobs/{job_id}", items=f"/jobs/{job_id}/items")


class UploadRowErrorView(View):
    line: int = Field(description="the row's line in the uploaded file (1 is the header)")
    field: str = Field(description="the lead field, or `row`, the problem is with")
    message: str


class JobUploadView(View):
    """How reading a job's uploaded CSV stands (docs/uploads.md): `GET /jobs/{id}` while it loads."""

    upload_id: str
    state: Literal["loading", "loaded", "failed"]
    rows: int = Field(description="items made from the file so far")
    refused: int = Field(description="data rows refused; the first of them are in `errors`")
    errors: list[UploadRowErrorView] = Field(description="refused rows, by line (the first 100)")
    line: int = Field(description="the last line of the file read")
    bytes_read: int
    size: int = Field(description="the file's size in bytes")
    failure: str | None = Field(
        description="why the file could not be read (state `failed`), naming the line"
    )


class JobView(View):
    job_id: str
    status: JobStatus
    kind: JobKind = Field(
        description="enrichment (leads: their decision-makers' addresses found) or verification (`emails`: "
        "each address verified; docs/verification.md)"
    )
    created_at: IsoTime
    started_at: IsoTime | None
    completed_at: IsoTime | None
    paused_reason: str | None = Field(
        default=None, description="while paused: `paused_by_caller` or `budget_reached` (a spend cap)"
    )
    options: JobOptionsView
    counters: JobCountersView
    cost: JobCostView
    links: JobLinks
    upload: JobUploadView | None = Field(
        default=None, description="a job made from an uploaded CSV: reading it; absent for the others"
    )

    @classmethod
    def fields_of(cls, job: Job) -> dict[str, Any]:
        """The job's fields, for this model and the ones that extend it."""
        c, o = job.counters, job.options
        return {
            "job_id": job.job_id,
            "status": job.status,
            "kind": job.options.kind,
            "created_at": job.created_at,
            "started_at": job.started_at,
            "completed_at": job.completed_at,
            "paused_reason": job.paused_reason,
            "options": JobOptionsView(
                priority=o.priority,
                max_attempts=o.max_attempts,
                skip_existing=o.skip_existing,
                webhook_url=o.webhook_url,
                webhook_events=list(o.webhook_events),  # checked at creation
                tags=list(o.tags),
                queue_window=o.queue_window,
                run_at=o.run_at,
                max_credits=o.max_credits,
                max_cost_usd=o.max_cost_usd,
                lawful_basis=o.lawful_basis,
                **({"company_data": True} if o.company_data else {}),  # older bodies unchanged
            ),
            "counters": JobCountersView(
                total=c.total,
                processed=c.processed,
                found=c.found,
                risky=c.risky,
                failed=c.failed,
                created_emails=c.created_emails,
                api_calls_hunter=c.api_calls_hunter,
                api_calls_perplexity=c.api_calls_perplexity,
                processing_time_seconds=round(c.processing_time_seconds, 3),
            ),
            "cost": JobCostView(
                hunter_credits=round(c.credits_hunter, 3), perplexity_usd=round(c.cost_perplexity_usd, 6)
            ),
            "links": JobLinks.of(job.job_id),
            **({"upload": _upload_view(o.upload)} if o.upload is not None else {}),  # others unchanged
        }

    @classmethod
    def from_job(cls, job: Job) -> JobView:
        return cls(**cls.fields_of(job))


def _upload_view(upload: UploadState) -> JobUploadView:
    return JobUploadView(
        upload_id=upload.upload_id,
        state=upload.state,
        rows=upload.rows,
        refused=upload.refused,
        errors=[UploadRowErrorView(line=e.line, field=e.field, message=e.message) for e in upload.errors],
        line=upload.line,
        bytes_read=upload.offset,
        size=upload.size,
        failure=upload.failure,
    )


class BulkResultView(View):
    job_id: str
    outcome: Literal["done", "not_found", "conflict"] = Field(
        description="done; not_found (not a job of the workspace); conflict (its status does not allow it)"
    )
    status: JobStatus | None = Field(description="the job's status after the action; null when not found")
    message: str | None = Field(description="why, for a conflict")


class BulkView(View):
    action: str
    results: list[BulkResultView] = Field(description="one per job id, in the order given")


class JobsPage(View):
    jobs: list[JobView] = Field(description="newest first")
    cursor: str | None = Field(description="pass back as `cursor` for the next page; null on the last")


class CallbackAttemptView(View):
    """One delivery attempt of the job's `job.completed` callback (docs/webhooks.md)."""

    attempt: int = Field(ge=1)
    at: IsoTime
    status_code: int | None = Field(description="the receiver's status; null when none came back")
    error: str | None = Field(description="a category (timeout, refused: ...), never a response body")
    delivered: bool
    event_id: str = Field(description="the event's webhook-id, the same on every attempt")


class JobDetailView(JobView):
    callbacks: list[CallbackAttemptView] | None = Field(
        default=None, description="oldest first; only for a job with a webhook_url"
    )


class SelectionView(View):
    """How a Supabase-backed job's leads were chosen."""

    source: str = Field(description="leads | domains | lead_ids | process_all")
    leads: int = Field(description="the job's items")
    skipped_existing: int | None = Field(
        description="left out for an active email already; null when filtered in SQL (process_all)"
    )
    next_after_lead_id: str | None = Field(
        description="process_all stopped at its limit with leads left: pass as after_lead_id"
    )
    skipped_recent: int = Field(
        default=0,
        description="process_all: left out because their last enrichment ended invalid, not_found or risky "
        "within the workspace's `reenrich_after_days` (0 with `force`)",
    )


class CreatedJobView(JobView):
    selection: SelectionView | None = Field(default=None, description="with Supabase only")


class DryRunView(View):
    """What a process_all job would take, counted without creating anything."""

    dry_run: Literal[True]
    leads: int = Field(description="what the job would take: matching, capped at the request's limit")
    matching: int = Field(description="leads the selection matches (after after_lead_id)")
    with_domain: int
    skipped_existing: int = Field(description="leads with a domain left out for an active email")
    skipped_recent: int = Field(
        default=0,
        description="leads left out because their last enrichment ended invalid, not_found or risky within "
        "the workspace's `reenrich_after_days` (0 with `force`)",
    )
    skip_existing: bool


class JobEventCounters(View):
    """The counters a callback carries: `JobCountersView`'s first six."""

    total: int
    processed: int
    found: int
    risky: int
    failed: int
    created_emails: int


class JobEventData(View):
    job_id: str
    status: JobStatus = Field(
        description="completed in job.completed; running in job.progress; cancelled in job.cancelled; "
        "paused in job.paused"
    )
    completed_at: IsoTime | None
    paused_reason: str | None = Field(
        default=None,
        description="in job.paused only: `paused_by_caller` or `budget_reached` (a spend cap)",
    )
    counters: JobEventCounters
    tags: list[str]
    links: JobLinks

    @classmethod
    def of(cls, job: JobView) -> JobEventData:
        """The callback's view of the job, taken from the API's: no lead data, fetch `links.items`.
        `paused_reason` is set only when there is one, so the other events' bodies stay as they were."""
        counters = job.counters.model_dump(include=set(JobEventCounters.model_fields))
        reason = {"paused_reason": job.paused_reason} if job.paused_reason is not None else {}
        return cls(
            job_id=job.job_id,
            status=job.status,
            completed_at=job.completed_at,
            counters=JobEventCounters(**counters),
            tags=job.options.tags,
            links=job.links,
            **reason,
        )


class JobEvent(View):
    """The body POSTed to a job's webhook_url, signed (docs/webhooks.md)."""

    type: JobEventType
    id: str = Field(description="the webhook-id header's value, the same on every retry")
    timestamp: IsoTime
    data: JobEventData

    def body(self) -> str:
        """The exact JSON signed and sent (compact)."""
        return json.dumps(self.model_dump(mode="json", exclude_unset=True), separators=(",", ":"))


__all__ = [
    "BulkResultView",
    "BulkView",
    "CallbackAttemptView",
    "CreatedJobView",
    "DryRunView",
    "EmailView",
    "IsoTime",
    "ItemView",
    "ItemsPage",
    "JobCostView",
    "JobCountersView",
    "JobDetailView",
    "JobEvent",
    "JobEventCounters",
    "JobEventData",
    "JobLinks",
    "JobOptionsView",
    "JobUploadView",
    "JobView",
    "JobsPage",
    "SelectionView",
    "UploadRowErrorView",
    "View",
    "dump",
]
