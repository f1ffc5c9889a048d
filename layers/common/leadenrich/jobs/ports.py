"""The ports the job services use: a job store, a work queue, and (with Supabase) a lead source, an email
sink and lead statistics.

Adapters: DynamoDB and SQS (`leadenrich.aws`), Supabase (`leadenrich.supabase`). Every state change named
here is a conditional write in the adapter; the docstrings say what each condition is, and the adapters'
tests prove it against the real services (moto; PostgreSQL + PostgREST).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from leadenrich.engine.models import FoundEmail, Lead
from leadenrich.jobs.models import (
    Item,
    ItemStatus,
    Job,
    JobCounters,
    JobOptions,
    JobStatus,
    Page,
    Received,
    ReviewState,
    SourcedLead,
    WebhookEvent,
    WorkMessage,
)


class IdempotencyConflict(Exception):
    """A job with this idempotency key exists already; `job` is that job."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.job_id} already created with this idempotency key")
        self.job = job


@dataclass(frozen=True)
class CounterDelta:
    """What one item's terminal transition adds to its job's counters."""

    processed: int = 1
    found: int = 0
    risky: int = 0
    failed: int = 0
    created_emails: int = 0
    api_calls_hunter: int = 0
    api_calls_perplexity: int = 0
    credits_hunter: float = 0.0
    cost_perplexity_usd: float = 0.0
    processing_time_seconds: float = 0.0


@dataclass(frozen=True)
class Activity:
    """Items that ran to a terminal state in a window (skipped items did not run and are not counted)."""

    processed: int = 0
    found: int = 0
    failed: int = 0  # failed + dead

    @property
    def success_rate(self) -> float | None:
        """Share of the processed items that did not fail (found, not found and invalid are answers);
        None when nothing was processed, rather than a made-up 0 or 1."""
        if not self.processed:
            return None
        return round((self.processed - self.failed) / self.processed, 4)

    @property
    def found_rate(self) -> float | None:
        return round(self.found / self.processed, 4) if self.processed else None


class JobStore(Protocol):
    async def create_job(self, job: Job, items: Sequence[Item]) -> Job:
        """Store a job and its items (batched writes). With `job.idempotency_key` set and already used in
        the workspace, store nothing and raise IdempotencyConflict carrying the existing job."""
        ...

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None: ...

    async def list_jobs(
        self,
        workspace_id: str,
        *,
        status: JobStatus | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        """Newest first."""
        ...

    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None: ...

    async def list_items(
        self,
        workspace_id: str,
        job_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Item]:
        """In input order."""
        ...

    async def claim_item(
        self,
        workspace_id: str,
        job_id: str,
        item_id: str,
        *,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> Item | None:
        """Take an item to run it: only if it is queued or deferred, or running with a lease that expired
        before `now` (its processor died), and its job is neither cancelled nor paused. Sets status running,
        the lease (`token`, `lease_until`) and attempts + 1. Returns the claimed item, or None when the
        condition failed (someone else holds it, it is terminal, or the job is cancelled or paused)."""
        ...

    async def finish_item(
        self,
        item: Item,
        status: ItemStatus,
        *,
        reason: str | None,
        result: dict[str, object] | None,
        delta: CounterDelta,
        now: datetime,
    ) -> bool:
        """Record a terminal outcome, only if `item.lease_token` still holds the item (status running with
        that token), and add `delta` to the job's counters and to the workspace's activity at `now` in the
        same transaction; the item is marked `sent_next` in the same write (the processor sends its
        successors before, see `leadenrich.jobs.window`). False when the lease was lost: nothing was
        written, nothing counted."""
        ...

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        """What `finish_item` counted for the workspace between `since` and `now` (to the minute)."""
        ...

    async def defer_item(
        self,
        item: Item,
        *,
        reason: str,
        next_attempt_at: datetime,
        charge_attempt: bool,
        now: datetime,
        spent: CounterDelta | None = None,
    ) -> bool:
        """Hand a running item back (status deferred, lease cleared), only if `item.lease_token` still holds
        it. With `charge_attempt` False the claim's attempt is given back (attempts - 1): the item was not
        really tried (no time left, provider throttled before any call). `spent` (processed 0) adds what
        the attempt cost to the job's counters in the same transaction. Marks the item `sent_next`."""
        ...

    async def skip_item(
        self, workspace_id: str, job_id: str, item_id: str, *, reason: str, now: datetime
    ) -> bool:
        """Mark a queued or deferred item skipped (its job was cancelled), or a running one whose lease
        expired before `now` (its processor died; no claim can take it any more), counting it processed
        once, and `sent_next`."""
        ...

    async def start_job(self, workspace_id: str, job_id: str, now: datetime) -> bool:
        """pending -> running, once (the first claim does it); False when it was not pending."""
        ...

    async def complete_job_if_done(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """running|pending -> completed when processed == total; returns the job only to the one caller
        whose conditional write made the change, so completion is detected exactly once."""
        ...

    async def cancel_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """pending|running|paused -> cancelled; returns the job (None if unknown). Finished items keep
        results."""
        ...

    async def fail_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """pending -> failed (`completed_at` now, due time cleared): a job whose input could not be read
        (an uploaded file that is not a CSV, `leadenrich.uploads`); returns the failed job only to the caller
        whose conditional write failed it, None when it is unknown or no longer pending."""
        ...

    async def pause_job(self, workspace_id: str, job_id: str, *, reason: str, now: datetime) -> Job | None:
        """pending|running -> paused with `reason` (`Job.paused_reason`); returns the paused job only to the
        caller whose conditional write paused it (so a `job.paused` event is sent once), None when the job
        is unknown or was not pending or running."""
        ...

    async def resume_job(self, workspace_id: str, job_id: str, *, now: datetime) -> Job | None:
        """paused -> running (pending when it never started: `started_at` unset), its reason cleared; returns
        the resumed job only to the caller whose write resumed it, None otherwise."""
        ...

    async def update_job(
        self,
        workspace_id: str,
        job_id: str,
        *,
        options: JobOptions,
        due_at: datetime | None,
        expected_due_at: datetime | None,
        now: datetime,
    ) -> Job | None:
        """Replace the job's options and its due time, only while it is pending, running or paused and its
        due time is still `expected_due_at` (a reschedule and the processor's release cannot both win);
        returns the job as stored after, None when the condition failed or the job is unknown."""
        ...

    async def due_jobs(self, now: datetime, limit: int = 10) -> list[Job]:
        """Scheduled jobs of every workspace whose `due_at` is at or before `now`, earliest first (the
        processor releases them)."""
        ...

    async def release_due(self, workspace_id: str, job_id: str, due_at: datetime) -> bool:
        """Clear the job's due time, only if it is still `due_at`; True for the one caller that cleared it."""
        ...

    async def requeue_items(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """Put the job's items in `statuses` (failed, dead) back to queued with attempts 0, take them off
        the job's processed/failed counters, and set the job running again; returns the requeued items."""
        ...

    async def review_address(
        self,
        workspace_id: str,
        job_id: str,
        item_id: str,
        *,
        index: int,
        email: str,
        decision: ReviewState,
        now: datetime,
    ) -> Item | None:
        """Record a reviewer's decision (approved, rejected) on the item's address number `index` of its
        result, only while that address is `email` and still pending (`leadenrich.privacy.review`): a
        compare-and-set on the stored result, so concurrent decisions on one item's addresses all land and
        none lands on a result a requeue replaced. The item as stored after; None when the condition failed
        (no such item or address, decided already)."""
        ...

    async def review_queue(
        self, workspace_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Item]:
        """The workspace's items with at least one address pending review (their result's `review_pending`),
        by job id then item id, through an index of those items only (never a scan of every item)."""
        ...


class JobEventOutbox(Protocol):
    """Where job events (`job.cancelled`, `job.paused`) wait to be sent by the processor's callback share
    (`leadenrich.webhooks.outbound`), so neither an API request nor an item waits on a receiver."""

    async def enqueue(self, job: Job, event: WebhookEvent) -> None: ...


# The work queue's limits are SQS's, and every adapter keeps them (tests/support/queue_contract.py).
MAX_BATCH = 10  # SendMessageBatch, ReceiveMessage and the other batch calls
MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43_200  # 12 h: the most a received message can stay hidden, in total
MAX_WAIT_SECONDS = 20


def check_range(name: str, value: int, low: int, high: int) -> None:
    """An integer argument within [low, high] (a bool is not one), else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


class WorkQueue(Protocol):
    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        """Enqueue in batches of ten (one SendMessageBatch each); returns how many calls were made."""
        ...

    async def receive(
        self, max_messages: int, *, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[Received]: ...

    async def delete(self, received: Received) -> None: ...

    async def retry_later(self, received: Received, delay_seconds: int) -> None:
        """Make the message visible again after `delay_seconds` (ChangeMessageVisibility, at most 12 h)."""
        ...

    async def dead_letter(self, received: Received, reason: str) -> None:
        """Move the message to the dead-letter queue with its reason, and delete it from the queue."""
        ...

    async def redrive(self, max_messages: int = 1000, workspace_id: str | None = None) -> list[WorkMessage]:
        """Move dead-lettered messages back to the queue (only `workspace_id`'s when given); returns what
        was moved."""
        ...

    async def depth(self) -> QueueDepth: ...


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    delayed: int
    dead_letters: int


@runtime_checkable
class ItemAppender(Protocol):
    """A job store that can fill a job page by page (optional: the service falls back to `create_job`
    with every item at once, which holds them all in memory)."""

    async def append_items(self, job: Job, items: Sequence[Item]) -> None:
        """Store more items of a job made by `create_job` (still pending, none of its items enqueued yet),
        and add their count to its total. Nothing is enqueued before the last page is stored, so no
        processor can find the job done while it is being filled."""
        ...


# --- Supabase: where leads come from and where their addresses go ------------------------------------------


class LeadStoreError(RuntimeError):
    """The lead store (Supabase) failed or refused a call. The message names the call and the error code,
    never the data (it may hold addresses); the API answers 503."""


@dataclass(frozen=True)
class EnrichableCount:
    """What a process_all dry run counts."""

    with_domain: int
    missing_email: int  # of those, the leads without an active email
    # Of `with_domain`, those the re-enrichment window leaves out (docs/auto-enrichment.md): their last
    # enrichment ended invalid, not_found or risky within it; and of those, the ones without an active email.
    recent: int = 0
    recent_missing_email: int = 0


class LeadSource(Protocol):
    """Stored leads, always a page (at most 500) at a time: no call holds a whole table. Every call is
    scoped to its workspace."""

    def by_ids(self, workspace_id: str, lead_ids: Sequence[str]) -> AsyncGenerator[list[SourcedLead], None]:
        """The leads with these ids, one page per 500 ids; an id that is not a lead of the workspace is
        absent from the pages."""
        ...

    def by_domains(
        self, workspace_id: str, domains: Sequence[str]
    ) -> AsyncGenerator[list[SourcedLead], None]:
        """Every lead whose domain matches one of these normalised domains, in pages; a domain that no lead
        has gets a company-level lead first."""
        ...

    def register(self, workspace_id: str, leads: Sequence[Lead]) -> AsyncGenerator[list[SourcedLead], None]:
        """Each inline lead matched to a stored lead or added (by external_id, else domain and names), in
        input order, in pages; each SourcedLead carries the lead as given."""
        ...

    def enrichable(
        self,
        workspace_id: str,
        *,
        skip_existing: bool,
        after_id: str | None = None,
        limit: int = 10_000,
        reenrich_after_days: int = 0,
    ) -> AsyncGenerator[list[SourcedLead], None]:
        """Every lead with a domain (with `skip_existing` only those without an active email), in id order
        after `after_id`, at most `limit` in all, in keyset pages. With `reenrich_after_days`, a lead whose
        last enrichment ended invalid, not_found or risky within that many days is left out."""
        ...

    async def count_enrichable(
        self,
        workspace_id: str,
        *,
        after_id: str | None = None,
        reenrich_after_days: int = 0,
        through_id: str | None = None,
    ) -> EnrichableCount:
        """The counts over the leads after `after_id` (up to `through_id` inclusive when given)."""
        ...


@dataclass(frozen=True)
class EmailWrite:
    """One item's addresses for its stored lead."""

    workspace_id: str
    lead_id: str
    emails: tuple[FoundEmail, ...]
    lawful_basis: str = "legitimate_interest"  # the job's (`JobOptions.lawful_basis`), on every row
    review: ReviewState | None = None  # approved when written after a review; None: no review asked


@dataclass(frozen=True)
class EmailsSaved:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0  # written again exactly as stored: not rewritten
    skipped: int = 0  # rows whose lead is not a lead of their workspace (deleted meanwhile)
    requests: int = 0


class EmailSink(Protocol):
    async def save(self, writes: Sequence[EmailWrite]) -> EmailsSaved:
        """Upsert the addresses on (lead, email), at most one primary per lead (the best address; a lead's
        earlier primary is demoted when it changes), in batches of at most 500 rows per request.
        Idempotent: saving the same writes again changes nothing."""
        ...


@dataclass(frozen=True)
class LeadStats:
    """What `GET /stats` reports for a workspace."""

    total_leads: int
    leads_with_domain: int
    leads_with_validated_email: int  # with at least one active address
    leads_missing_email: int  # with a domain and no active address: what process_all takes by default
    emails_total: int
    emails_by_source: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> status -> n
    average_confidence_score: float | None = None  # over every stored address; None when there is none
    average_confidence_score_active: float | None = None


class StatsReader(Protocol):
    async def stats(self, workspace_id: str) -> LeadStats: ...


__all__ = [
    "MAX_BATCH",
    "MAX_DELAY_SECONDS",
    "MAX_VISIBILITY_SECONDS",
    "MAX_WAIT_SECONDS",
    "Activity",
    "CounterDelta",
    "EmailSink",
    "EmailWrite",
    "EmailsSaved",
    "EnrichableCount",
    "IdempotencyConflict",
    "ItemAppender",
    "JobCounters",
    "JobEventOutbox",
    "JobStore",
    "LeadSource",
    "LeadStats",
    "LeadStoreError",
    "QueueDepth",
    "StatsReader",
    "WorkQueue",
    "check_range",
]
