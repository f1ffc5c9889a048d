"""Jobs and items: what the runtime stores about a batch of leads and each lead in it.

A job is the parent a caller sees (status, counters, cost); each lead is an item with its own status,
attempts, reason and result. Items move only forward through their states, and only by conditional writes
in the store, so two processors or a duplicate queue delivery can never run or count an item twice.

    queued ──claim──> running ──finish──> found | risky | not_found | invalid | failed (terminal)
      ^                 │  └──defer────> deferred ──claim──> running ...
      │                 └──dead───────> dead (attempts exhausted: in the DLQ)           (terminal)
      └──────retry / redrive (failed, dead)
    queued | deferred ──cancel──> skipped                                              (terminal)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from leadenrich.engine.models import Lead, LeadStatus
from leadenrich.uploads.models import UploadState

DEFAULT_WORKSPACE = "default"
HIGHEST_PRIORITY, DEFAULT_PRIORITY, LOWEST_PRIORITY = 1, 3, 5
T = TypeVar("T")


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # by a caller (PATCH, bulk) or by its spend cap (`Job.paused_reason`)


class JobKind(StrEnum):
    ENRICHMENT = "enrichment"  # leads: find their decision-makers' addresses
    VERIFICATION = "verification"  # addresses: verify each one (`Item.lead.email`)


# Why a job is paused (`Job.paused_reason`).
PAUSED_BY_CALLER = "paused_by_caller"
BUDGET_REACHED = "budget_reached"  # its own cap (max_credits, max_cost_usd) or its workspace's monthly budget


class ItemStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DEFERRED = "deferred"
    FOUND = "found"
    RISKY = "risky"  # only unverifiable addresses (catch-all domain, verification unknown)
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    FAILED = "failed"
    SKIPPED = "skipped"  # the job was cancelled before the item ran
    DEAD = "dead"  # attempts exhausted; its message is in the dead-letter queue

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @classmethod
    def from_lead_status(cls, status: LeadStatus) -> ItemStatus:
        """The terminal item status for an engine result (DEFERRED is not terminal and has no mapping)."""
        return {
            LeadStatus.FOUND: cls.FOUND,
            LeadStatus.RISKY: cls.RISKY,
            LeadStatus.NOT_FOUND: cls.NOT_FOUND,
            LeadStatus.INVALID: cls.INVALID,
            LeadStatus.FAILED: cls.FAILED,
        }[status]


TERMINAL = frozenset(
    {
        ItemStatus.FOUND,
        ItemStatus.RISKY,
        ItemStatus.NOT_FOUND,
        ItemStatus.INVALID,
        ItemStatus.FAILED,
        ItemStatus.SKIPPED,
        ItemStatus.DEAD,
    }
)
CLAIMABLE = frozenset({ItemStatus.QUEUED, ItemStatus.DEFERRED})


class LawfulBasis(StrEnum):
    """The GDPR / UK GDPR basis a job processes its leads' personal data on (docs/privacy.md): recorded with
    the job and carried by every address it stores, so an operator can answer "on what basis" per address."""

    LEGITIMATE_INTEREST = "legitimate_interest"  # B2B outreach: the usual basis, and the default
    CONSENT = "consent"
    CONTRACT = "contract"


class ReviewState(StrEnum):
    """Where a found address stands in the approval workflow (`leadenrich.privacy.review`): with its
    workspace's `review_required` on, it starts pending, held from exports and Supabase until approved."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


# What a job's webhook_url may receive (`leadenrich.webhooks.outbound`): the job's own events, and
# `address.changed` when the re-verification sweep changes the verdict of an address the job stored
# (`leadenrich.webhooks.address_changed`; docs/reverification.md).
JobEventType = Literal["job.completed", "job.progress", "job.cancelled", "job.paused"]
WebhookEvent = Literal[JobEventType, "address.changed"]
JOB_COMPLETED: JobEventType = "job.completed"
JOB_PROGRESS: JobEventType = "job.progress"
JOB_CANCELLED: JobEventType = "job.cancelled"
JOB_PAUSED: JobEventType = "job.paused"
ADDRESS_CHANGED: WebhookEvent = "address.changed"
WEBHOOK_EVENTS: tuple[WebhookEvent, ...] = (
    JOB_COMPLETED,
    JOB_PROGRESS,
    JOB_CANCELLED,
    JOB_PAUSED,
    ADDRESS_CHANGED,
)


@dataclass(frozen=True)
class JobOptions:
    priority: int = DEFAULT_PRIORITY  # 1 (highest) to 5; its band is its queue (`Band`)
    max_attempts: int = 5
    skip_existing: bool = False
    webhook_url: str | None = None
    tags: tuple[str, ...] = ()
    webhook_events: tuple[str, ...] = (JOB_COMPLETED,)  # sent to webhook_url when it is set
    # Items in the queue at a time (`leadenrich.jobs.window`); None: all enqueued at creation (jobs made
    # before windows existed, or QUEUE_WINDOW=0).
    queue_window: int | None = None
    kind: JobKind = JobKind.ENRICHMENT
    # When its items may start (None: at once). A scheduled job waits, pending, in the due index
    # (`Job.due_at`) until the processor releases it.
    run_at: datetime | None = None
    # Spend caps, checked before each paid call (`leadenrich.jobs.budget`); None: no cap.
    max_credits: float | None = None  # Hunter credits
    max_cost_usd: float | None = None  # Perplexity dollars
    # Set at creation (the request's, else the workspace's default); jobs made before it read as the default.
    lawful_basis: LawfulBasis = LawfulBasis.LEGITIMATE_INTEREST
    # Each lead's company data too (docs/company-data.md): off unless asked, so no job's cost changes by
    # itself; jobs made before it read as off.
    company_data: bool = False
    # A job made from an uploaded CSV (`POST /jobs {"upload_id"}`): where reading it stands; None otherwise.
    upload: UploadState | None = None

    def wants(self, event: WebhookEvent) -> bool:
        """Whether `event` is POSTed to the job's webhook_url."""
        return self.webhook_url is not None and event in self.webhook_events

    def as_row(self) -> dict[str, Any]:
        """The options as both stores keep them: one column (attribute) each."""
        return {
            "priority": self.priority,
            "max_attempts": self.max_attempts,
            "skip_existing": self.skip_existing,
            "webhook_url": self.webhook_url,
            "tags": list(self.tags),
            "webhook_events": list(self.webhook_events),
            "queue_window": self.queue_window,
            "kind": self.kind.value,
            "run_at": self.run_at.isoformat() if self.run_at is not None else None,
            "max_credits": self.max_credits,
            "max_cost_usd": self.max_cost_usd,
            "lawful_basis": self.lawful_basis.value,
            "company_data": self.company_data,
            "upload": self.upload.as_row() if self.upload is not None else None,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobOptions:
        window = row.get("queue_window")
        run_at, credits, usd = row.get("run_at"), row.get("max_credits"), row.get("max_cost_usd")
        return cls(
            priority=int(row["priority"]),
            max_attempts=int(row["max_attempts"]),
            skip_existing=bool(row["skip_existing"]),
            webhook_url=row.get("webhook_url"),
            tags=tuple(row.get("tags") or ()),
            webhook_events=tuple(row.get("webhook_events") or (JOB_COMPLETED,)),  # older rows have none
            queue_window=int(window) if window is not None else None,
            kind=JobKind(row.get("kind") or JobKind.ENRICHMENT),  # older rows have none
            run_at=_moment(run_at),
            max_credits=float(credits) if credits is not None else None,
            max_cost_usd=float(usd) if usd is not None else None,
            # Rows made before the lawful basis was kept read as the default.
            lawful_basis=LawfulBasis(row.get("lawful_basis") or LawfulBasis.LEGITIMATE_INTEREST),
            company_data=bool(row.get("company_data") or False),  # older rows have none
            upload=_upload(row.get("upload")),
        )


def _upload(value: Any) -> UploadState | None:
    """A stored upload state: a mapping (PostgREST's jsonb, DynamoDB), JSON text (SQLite) or none."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return UploadState.from_row(value)


def _moment(value: Any) -> datetime | None:
    """A stored instant: a datetime (PostgREST, SQLite adapters) or ISO-8601 text (DynamoDB)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass
class JobCounters:
    """Every counter is changed only together with the item transition it counts (one transaction)."""

    total: int = 0
    processed: int = 0  # items in a terminal state
    found: int = 0  # items with a verified address
    risky: int = 0  # items with only unverifiable addresses
    failed: int = 0  # failed + dead
    created_emails: int = 0
    api_calls_hunter: int = 0
    api_calls_perplexity: int = 0
    credits_hunter: float = 0.0
    cost_perplexity_usd: float = 0.0
    processing_time_seconds: float = 0.0


@dataclass
class Job:
    workspace_id: str
    job_id: str
    status: JobStatus
    created_at: datetime
    options: JobOptions = field(default_factory=JobOptions)
    counters: JobCounters = field(default_factory=JobCounters)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    idempotency_key: str | None = None
    # SHA-256 of the request that made the job under `idempotency_key`: the same key with another body is
    # refused, not replayed (IETF idempotency-key draft). None for jobs made before it was kept.
    request_fingerprint: str | None = None
    # Why it is paused (PAUSED_BY_CALLER, BUDGET_REACHED); None unless status is paused.
    paused_reason: str | None = None
    # Set while a scheduled job waits for `options.run_at`: the due index the processor reads
    # (`JobStore.due_jobs`); cleared when the processor releases the job's first items to the queue.
    due_at: datetime | None = None


@dataclass
class Item:
    workspace_id: str
    job_id: str
    item_id: str  # zero-padded sequence within the job: sorts in input order
    lead: Lead
    status: ItemStatus = ItemStatus.QUEUED
    attempts: int = 0  # claims that were charged an attempt
    reason: str | None = None
    result: dict[str, Any] | None = None  # EnrichmentResult.as_record() once terminal
    updated_at: datetime | None = None
    lease_token: str | None = None  # set while running: only its holder may finish or defer the item
    lease_until: datetime | None = None
    next_attempt_at: datetime | None = None  # for deferred items
    lead_id: str | None = None  # the stored lead (Supabase `leads.id`) whose addresses the item writes
    # Its successors were sent to the queue (`leadenrich.jobs.window`): set with its first outcome.
    sent_next: bool = False


@dataclass(frozen=True)
class SourcedLead:
    """A lead as the lead source holds it: its id, the lead to enrich, and whether it has an active
    email already (what `skip_existing` skips)."""

    lead_id: str
    lead: Lead
    has_active_email: bool = False


class Band(StrEnum):
    """A priority band: the queue a job's items wait in (`leadenrich.jobs.priorities`). Highest first."""

    HIGH = "high"  # priorities 1 and 2
    NORMAL = "normal"  # 3, the default: the queue a stack without bands has
    LOW = "low"  # 4 and 5

    @classmethod
    def of(cls, priority: int) -> Band:
        if priority <= 2:
            return cls.HIGH
        return cls.NORMAL if priority == DEFAULT_PRIORITY else cls.LOW


@dataclass(frozen=True)
class WorkMessage:
    """What the queue carries: a pointer to an item, and its job's priority, which picks the band's queue
    (the item's state lives in the store). Built with `for_item` wherever a job is at hand, so no path
    sends a job's items to another band."""

    workspace_id: str
    job_id: str
    item_id: str
    priority: int = DEFAULT_PRIORITY

    @classmethod
    def for_item(cls, job: Job, item_id: str) -> WorkMessage:
        return cls(job.workspace_id, job.job_id, item_id, job.options.priority)

    @property
    def band(self) -> Band:
        return Band.of(self.priority)

    def check(self) -> None:
        """What every queue refuses before sending anything: an empty id, a priority outside 1-5."""
        fields = {"ws": self.workspace_id, "job": self.job_id, "item": self.item_id}
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"WorkMessage field for {name!r} must be a non-empty string")
        priority = self.priority
        if type(priority) is not int or not HIGHEST_PRIORITY <= priority <= LOWEST_PRIORITY:
            raise ValueError(f"WorkMessage priority must be an integer from 1 to 5, got {priority!r}")


@dataclass(frozen=True)
class Received:
    """A message as received: the handle to delete or re-time it, and how often it was delivered."""

    message: WorkMessage
    receipt_handle: str
    receive_count: int
    message_id: str
    # The band whose queue delivered it (set by banded queues): acknowledgements go back to that queue,
    # whatever the body says. None from a queue without bands.
    band: Band | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None  # opaque; pass back to get the next page, None when there is none
