"""What a caller may ask of the job service, validated once at the edge.

Every rule names its field, so the API answers a 4xx such as `leads[41].domain: ...` and never a 500. A
domain that cannot be a host name at all is refused here (the caller can fix the row); a well-formed
webmail or disposable domain is accepted and ends its item `invalid`, as the waterfall decides.

A job's leads come from exactly one source: `leads` or `domains` (inline; with Supabase configured they
are matched to stored leads), `lead_ids` or `process_all` (stored leads; Supabase only). Whether Supabase
is configured is not known here: the service refuses what needs it, naming the field. `emails` makes a
verification job instead (`JobKind.VERIFICATION`): one item per address, each checked here (`emails.3`).
`upload_id` names a CSV uploaded through `POST /uploads` (with `columns` saying which column holds which
field when the usual names do not fit): the processor reads it, page by page (docs/uploads.md).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.models import MAX_ADDRESS_LENGTH, Lead, normalize_email
from leadenrich.jobs.control_requests import ScheduleAndCaps, check_tags, check_webhook_url
from leadenrich.jobs.models import WEBHOOK_EVENTS, JobKind, LawfulBasis, WebhookEvent
from leadenrich.uploads.models import UPLOAD_ID_PATTERN

MAX_LEADS_PER_JOB = 10_000
MAX_ATTEMPTS = 10  # per item; the queue's redrive policy must allow more receives than this


def _host_name(value: str) -> str:
    try:
        normalize_domain(value)
    except DomainError as exc:
        raise ValueError(str(exc)) from None
    return value


def _host_name_or_none(value: str) -> str:
    """A lead's domain: a host name, or empty (its company name is resolved to one)."""
    return _host_name(value) if value else value


# Checked per element, so an error names its row: `domains.41`, `leads.41.domain`.
CompanyDomain = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_host_name)]


# An address to verify, checked per element so an error names its index: `emails.3`.
EmailAddress = Annotated[
    str, Field(min_length=3, max_length=MAX_ADDRESS_LENGTH), AfterValidator(normalize_email)
]


class JobLead(Lead):
    domain: Annotated[str, AfterValidator(_host_name_or_none)] = Field(
        default="",
        max_length=2048,
        description="the company's domain or website. Empty or left out: `company_name` is resolved to one "
        "(docs/company-data.md: an ambiguous name ends the item `invalid`, an unknown one `not_found`)",
    )
    email: SkipJsonSchema[str | None] = None  # not part of the document: refused below

    @field_validator("email")
    @classmethod
    def _not_here(cls, value: str | None) -> str | None:
        """A lead of an enrichment job is a company (and maybe a person) to search, not an address: one
        given here would be ignored while the caller believes it verified."""
        if value:
            raise ValueError("addresses to verify go in `emails` (a verification job), not in a lead")
        return None


Source = Literal["leads", "domains", "lead_ids", "process_all", "emails", "upload_id"]
SOURCES: tuple[Source, ...] = ("leads", "domains", "lead_ids", "process_all", "emails", "upload_id")
# A header name as a caller writes it in `columns` (a spreadsheet's column title).
HeaderName = Annotated[str, Field(min_length=1, max_length=256)]


class ColumnMap(BaseModel):
    """Which column of an uploaded CSV holds each lead field, by its header name (as `enrich`'s `--map`);
    a field left out is found under its usual names ("Website", "Company", "First Name" ...)."""

    model_config = ConfigDict(extra="forbid")

    domain: HeaderName | None = None
    company_name: HeaderName | None = None
    first_name: HeaderName | None = None
    last_name: HeaderName | None = None
    external_id: HeaderName | None = None

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(field, header name) for each field given."""
        return tuple((field, str(name)) for field, name in self.model_dump(exclude_none=True).items())


class CreateJobRequest(ScheduleAndCaps):
    model_config = ConfigDict(extra="forbid")

    leads: list[JobLead] | None = Field(
        default=None,
        max_length=MAX_LEADS_PER_JOB,
        description="Leads given inline, one item each. With Supabase configured each is also matched to a "
        "stored lead (by external_id, else by domain and name) or added to `leads`, and its addresses are "
        "written to `emails`.",
    )
    domains: list[CompanyDomain] | None = Field(
        default=None,
        max_length=MAX_LEADS_PER_JOB,
        description="Without Supabase: company domains enriched as given, one item each. With Supabase "
        "configured: every stored lead whose domain matches (scheme, www, path and case ignored), one item "
        "each; a domain no lead has gets a company-level lead first. At most 10,000 items in all.",
    )
    lead_ids: list[UUID] | None = Field(
        default=None,
        max_length=MAX_LEADS_PER_JOB,
        description="Stored leads by id (requires Supabase). An id that is not a lead of the workspace is "
        "refused, naming its index.",
    )
    process_all: bool = Field(
        default=False,
        description="Every stored lead with a domain (requires Supabase), streamed in pages of 500: with "
        "`skip_existing` (the default here) only those without an active email. One job takes at most "
        "`limit` leads, in id order; the answer's `selection.next_after_lead_id` continues.",
    )
    emails: list[EmailAddress] | None = Field(
        default=None,
        max_length=MAX_LEADS_PER_JOB,
        description="Addresses to verify: a verification job (`kind`), one item each, run through Hunter's "
        "Email Verifier with the cache, rate limits and retries of enrichment. Each item ends with its "
        "address's hunter_status, score (`confidence_score`), deliverability and status "
        "(docs/verification.md). Lower-cased; each is checked and refused naming its index.",
    )
    upload_id: str | None = Field(
        default=None,
        pattern=UPLOAD_ID_PATTERN,
        description="A CSV uploaded through `POST /uploads` (UTF-8, up to 1,000,000 rows): the job's leads, "
        "one item per valid row, read by the processor in pages after the job is created (the job stays "
        "pending meanwhile; `upload` in `GET /jobs/{job_id}` says how reading stands). Refused rows are "
        "listed with their line numbers; a file that cannot be read fails the job, saying why "
        "(docs/uploads.md).",
    )
    columns: ColumnMap | None = Field(
        default=None,
        description="With upload_id: the header name of the column holding each lead field, when the "
        "usual names (`domain`, `Website`, `Company`, `First Name` ...) do not fit.",
    )
    after_lead_id: UUID | None = Field(
        default=None, description="With process_all: start after this lead id (a previous job's cursor)."
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=MAX_LEADS_PER_JOB,
        description="With process_all: at most this many leads in the job (default and maximum 10,000).",
    )
    dry_run: bool = Field(
        default=False,
        description="With process_all: answer how many leads the job would take (200), create nothing.",
    )
    force: bool = Field(
        default=False,
        description="With process_all: also take the leads whose last enrichment ended invalid, not_found "
        "or risky within the workspace's `reenrich_after_days` (left out by default: "
        "docs/auto-enrichment.md).",
    )
    priority: int = Field(default=3, ge=1, le=5)
    max_attempts: int = Field(default=5, ge=1, le=MAX_ATTEMPTS)
    webhook_url: str | None = Field(default=None, max_length=2048)
    webhook_events: list[WebhookEvent] | None = Field(
        default=None,
        min_length=1,
        max_length=len(WEBHOOK_EVENTS),
        description="With webhook_url: the events to POST there. `job.completed` (the default), "
        "`job.cancelled` and `job.paused` (with `paused_reason`) are retried with backoff until delivered; "
        "`job.progress` carries the job's counters after each processor run that advanced it (at most about "
        "one a minute), one attempt each, not retried. `address.changed`: an address the job stored got a "
        "new verdict at re-verification (docs/reverification.md), retried like job.completed.",
    )
    tags: list[str] = Field(default_factory=list, max_length=10)
    skip_existing: bool | None = Field(
        default=None,
        description="Leave out leads that already have an active email in Supabase (requires Supabase). "
        "Default: true with process_all, false otherwise.",
    )
    lawful_basis: LawfulBasis | None = Field(
        default=None,
        description="The GDPR basis the job processes its leads' personal data on, recorded with the job "
        "and on every address it stores (docs/privacy.md). Default: the workspace's `default_lawful_basis` "
        "(legitimate_interest unless changed).",
    )
    company_data: bool = Field(
        default=False,
        description="Also fetch each lead's company (industry, size, location, description) with a "
        "completeness score 0-100, through Hunter's company enrichment: about 1 credit (0.2 on All-in-one "
        "plans) per company found, none when not found, cached; data older than 90 days is fetched again "
        "(docs/company-data.md). Not for verification jobs.",
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return check_tags(tags)

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, url: str | None) -> str | None:
        return check_webhook_url(url)

    @field_validator("webhook_events")
    @classmethod
    def _events(cls, events: list[WebhookEvent] | None, info: ValidationInfo) -> list[WebhookEvent] | None:
        if events is not None and not info.data.get("webhook_url"):
            raise ValueError("only with webhook_url")
        return list(dict.fromkeys(events)) if events is not None else None

    @field_validator("after_lead_id", "limit", "dry_run", "force")
    @classmethod
    def _process_all_only(cls, value: object, info: ValidationInfo) -> object:
        """Named per field (a model validator's error would only name the body)."""
        if value not in (None, False) and not info.data.get("process_all"):
            raise ValueError("only with process_all")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [name for name in SOURCES if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'leads', 'domains', 'lead_ids', 'process_all', 'emails' or "
                "'upload_id', not empty"
            )
        return self

    @field_validator("columns")
    @classmethod
    def _upload_only(cls, value: ColumnMap | None, info: ValidationInfo) -> ColumnMap | None:
        if value is not None and not info.data.get("upload_id"):
            raise ValueError("only with upload_id")
        return value

    @field_validator("skip_existing")
    @classmethod
    def _not_with_emails(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("emails"):
            raise ValueError("not with emails: a verification job has no stored leads to skip")
        if value and info.data.get("upload_id"):
            raise ValueError("not with upload_id: an uploaded file's rows are not matched to stored leads")
        return value

    @field_validator("company_data")
    @classmethod
    def _company_not_with_emails(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("emails"):
            raise ValueError("not with emails: a verification job checks addresses, not companies")
        return value

    @property
    def kind(self) -> JobKind:
        """A verification job for `emails`, an enrichment job for every other source."""
        return JobKind.VERIFICATION if self.emails else JobKind.ENRICHMENT

    @property
    def source(self) -> Source:
        return next(name for name in SOURCES if getattr(self, name))

    @property
    def skip(self) -> bool:
        """skip_existing as meant: true by default for process_all ("all leads missing an email")."""
        return self.skip_existing if self.skip_existing is not None else self.process_all

    def all_leads(self) -> list[Lead]:
        """The inline leads (`leads`, `domains` as company-level leads, `emails` as leads that carry their
        address); empty for stored sources."""
        if self.leads:
            return [Lead.model_validate(lead.model_dump()) for lead in self.leads]
        if self.emails:
            return [Lead.of_address(email) for email in self.emails]
        return [Lead(domain=d) for d in self.domains or []]
