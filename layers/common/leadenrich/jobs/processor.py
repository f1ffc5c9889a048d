"""The scheduled processor: drain up to N items within a time budget, each exactly once.

Every minute the processor receives messages only while it has time to finish them, runs their items
concurrently through the enrichment waterfall, and acknowledges a message only after the item's result is
committed. The store's conditional writes make it safe to run two processors at once and to receive the
same message twice: whoever claims an item holds a lease, and only the lease holder may finish it.

What happens to an item, by the engine's answer:
- found / risky / not_found / invalid / failed: its addresses written to the email sink first when the item
  has a stored lead (Supabase `emails`, an idempotent upsert), then recorded (with the job's counters, in one
  transaction), message deleted, job completion checked (exactly once across processors). A crash between
  the two writes runs the item again, and the upsert makes its second write a no-op; a failed email write
  defers the item like a provider failure (an attempt charged, backoff);
- deferred before any call (time ran out, or no provider slot under the rate limit before the budget
  ends), or throttled by the provider (a 429, Hunter's 403 rate limit: not billed, not a failed try):
  handed back without charging an attempt, hidden until this invocation is over (and at least for the
  provider's Retry-After), and no further message is received in this invocation: the provider
  capacity it could use is taken (without this, a processor bound by a rate limit received, released
  and received the same messages again and again, and SQS's redrive policy, which counts every
  receive, moved them to the DLQ unprocessed);
- deferred after trying (202, 5xx, timeouts...): hidden for a backoff delay with full jitter, at least
  what the provider asked for; after `max_attempts` charged attempts: dead-lettered with its reason;
- its job cancelled: skipped and its message deleted;
- its job paused: its message deleted, the item left as it was (resuming sends it again, `jobs.control`).
Each drain first releases the scheduled jobs whose `run_at` has come (`jobs.control.release_due_jobs`),
and reads due uploaded files into their jobs' items in a share of its budget (`uploads.loader`).
Before an item's first outcome is written (finish, deferral, hand-back, dead letter, skip), the items it leads
in its job's queue window are sent (`leadenrich.jobs.window`): a job has only a window of messages in the
queue at a time, so jobs created after a large one are not stuck behind all of it.
A crash anywhere leaves the message to reappear after its visibility timeout; the item's lease expires at
the same moment, so the next claim succeeds. The queue's redrive policy catches a message that crashes its
processor every time.

Callbacks (`CompletionCallbacks`, docs/webhooks.md): the processor whose write completed a job (exactly one)
calls `job_completed` with its deadline, which makes the first signed POST to the job's `webhook_url` within
the budget. Everything else the callbacks are owed has its own share of each drain, whatever the backlog
(`leadenrich.jobs.processor_callbacks`): owed retries and queued events from the drain's start, concurrently
with the items, and the `job.progress` events of the jobs it advanced at its end, in the last
`callback_seconds` before the callbacks' end, which the items never use. A callback failure is never the
item's: it is logged by type and retried by the callbacks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from leadenrich.deadline import Deadline
from leadenrich.engine.budget import SpendGate
from leadenrich.engine.models import EnrichmentResult, Lead, LeadStatus, Usage
from leadenrich.engine.screen import Screen
from leadenrich.jobs.budget import SpendCaps
from leadenrich.jobs.company_records import CompanySink, resolved_lead, store_company
from leadenrich.jobs.control import release_due_jobs
from leadenrich.jobs.lead_records import LeadEnrichmentSink, record_dead, store_lead_enrichment
from leadenrich.jobs.models import (
    BUDGET_REACHED,
    JOB_PAUSED,
    Item,
    ItemStatus,
    Job,
    JobKind,
    JobStatus,
    Received,
    WorkMessage,
)
from leadenrich.jobs.ports import (
    CounterDelta,
    EmailSink,
    JobEventOutbox,
    JobStore,
    WorkQueue,
)
from leadenrich.jobs.processor_callbacks import CallbackShare, CompletionCallbacks
from leadenrich.jobs.processor_report import DrainReport, ProcessorSettings
from leadenrich.jobs.retry import RetryPolicy, write_failed
from leadenrich.jobs.window import successors
from leadenrich.privacy.ports import AuditEntry, AuditLog, WorkspaceSettingsStore
from leadenrich.privacy.review import ItemPolicy
from leadenrich.uploads.loader import DailyQuota, UploadLoader
from leadenrich.uploads.ports import BlobStore

log = logging.getLogger(__name__)


class LeadEnricher(Protocol):
    """Runs one item: the waterfall for a lead (`Enricher`), or the verifier for an address."""

    async def enrich(
        self,
        lead: Lead,
        deadline: Deadline | None = None,
        budget: SpendGate | None = None,
        screen: Screen | None = None,
    ) -> EnrichmentResult: ...


class Processor:
    def __init__(
        self,
        store: JobStore,
        queue: WorkQueue,
        enricher: LeadEnricher,
        settings: ProcessorSettings | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        emails: EmailSink | None = None,
        callbacks: CompletionCallbacks | None = None,
        verifier: LeadEnricher | None = None,
        spend_caps: SpendCaps | None = None,
        events: JobEventOutbox | None = None,
        screen: Callable[[str], Screen] | None = None,
        privacy: WorkspaceSettingsStore | None = None,
        company_runner: LeadEnricher | None = None,
        companies: CompanySink | None = None,
        audit: AuditLog | None = None,
        lead_records: LeadEnrichmentSink | None = None,
        blobs: BlobStore | None = None,
        lead_quota: DailyQuota | None = None,  # what the uploads' rows are reserved from
    ) -> None:
        self.store = store
        self.queue = queue
        self.enricher = enricher
        self.settings = settings or ProcessorSettings()
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.emails = emails
        self.callbacks = callbacks
        self.verifier = verifier  # runs the items of verification jobs (`engine.verification.Verifier`)
        self.spend_caps = spend_caps  # None: no caps are checked (`leadenrich.jobs.budget`)
        self.events = events  # where `job.paused` waits for the callbacks' share
        self.screen = screen  # a workspace's suppression lists (`engine.screen`); None: nothing screened
        self.privacy = privacy  # review and region settings (`privacy.review.ItemPolicy`); None: neither
        # Jobs with `company_data` run on `company_runner` (the enricher, its company step on), and their
        # stored leads get the company columns through `companies` (docs/company-data.md).
        self.company_runner = company_runner
        self.companies = companies
        self.audit = audit  # where the processor's own decisions (a pause at a cap) are recorded
        self.lead_records = lead_records  # a stored lead's enrichment record (`jobs.lead_records`)
        self.uploads = UploadLoader(store, blobs, clock, quota=lead_quota) if blobs is not None else None

    async def drain(self, budget_seconds: float | None = None, *, receive: bool = True) -> DrainReport:
        """Process up to `max_items` items, never running past the budget (default: the settings').
        `receive=False`: the run's other duties only (scheduled jobs, callbacks), when an SQS event source
        mapping delivers the items (`processor_batch`)."""
        s = self.settings
        deadline = Deadline.after(budget_seconds if budget_seconds is not None else s.budget_seconds)
        share = CallbackShare.start(self.callbacks, self.store, deadline, margin_seconds=s.margin_seconds)
        work_deadline = share.items_deadline(s.callback_seconds)
        report = DrainReport()
        running: set[asyncio.Task[None]] = set()
        started = asyncio.get_running_loop().time()
        empty = False  # the last receive found nothing: ask again only once an item finished
        await self._release_due(report, work_deadline)
        while True:
            saturated = report.released > 0  # back-pressure: see the module docstring
            room = min(s.concurrency - len(running), s.max_items - report.received) if receive else 0
            if not (empty or saturated) and room > 0 and work_deadline.remaining() >= s.min_item_seconds:
                batch = await self.queue.receive(min(room, 10), visibility_timeout=s.visibility_timeout)
                report.received += len(batch)
                empty = not batch
                for received in batch:
                    running.add(asyncio.create_task(self.run_message(received, work_deadline, report)))
                if batch:
                    continue
            if not running:
                break
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            empty = False  # a finished item may have sent its successors (queue windows)
            for task in done:
                task.result()  # run_message never raises; a bug here should not pass silently
        await share.finish(report.advanced_jobs, report.completed_jobs)
        report.seconds = asyncio.get_running_loop().time() - started
        return report

    async def _release_due(self, report: DrainReport, deadline: Deadline) -> None:
        """Scheduled jobs whose time came get their first items sent; a failure waits for the next run."""
        load = self.uploads.within(deadline) if self.uploads is not None else None
        try:
            report.released_jobs = (
                await release_due_jobs(self.store, self.queue, self.clock(), load=load)
            ).jobs
        except Exception as exc:
            log.error("releasing scheduled jobs failed", extra={"error": type(exc).__name__})

    async def run_message(self, received: Received, deadline: Deadline, report: DrainReport) -> None:
        """One delivered message, start to end; never raises (an error is counted and logged, and the
        message reappears after its visibility timeout). `drain` and `processor_batch` call it."""
        try:
            await self._process(received, deadline, report)
        except Exception as exc:  # the message reappears after its visibility timeout; the lease expires too
            report.errors += 1
            log.error(
                "item failed unexpectedly",
                extra={"error": type(exc).__name__, "job": received.message.job_id},
            )

    async def _process(self, received: Received, deadline: Deadline, report: DrainReport) -> None:
        msg = received.message
        now = self.clock()
        job = await self.store.get_job(msg.workspace_id, msg.job_id)
        if job is None:
            await self.queue.delete(received)  # its job no longer exists: nothing to do, ever
            report.duplicates += 1
            return
        if job.status is JobStatus.CANCELLED:
            await self._send_next_of_skipped(job, msg.item_id)
            if await self.store.skip_item(
                msg.workspace_id, msg.job_id, msg.item_id, reason="job cancelled", now=now
            ):
                report.skipped += 1
                await self._check_completion(job, report, deadline)
            await self.queue.delete(received)
            return
        if job.status is JobStatus.PAUSED:
            # The item stays as it is (queued or deferred); resuming sends it again (`jobs.control`).
            await self.queue.delete(received)
            report.held += 1
            return

        token = uuid.uuid4().hex
        lease_until = now + timedelta(seconds=self.settings.visibility_timeout)
        item = await self.store.claim_item(
            msg.workspace_id, msg.job_id, msg.item_id, token=token, lease_until=lease_until, now=now
        )
        if item is None:
            await self._not_claimed(received, report)
            return
        if job.status is JobStatus.PENDING:
            await self.store.start_job(msg.workspace_id, msg.job_id, now)

        max_attempts = job.options.max_attempts
        if item.attempts > max_attempts:
            await self._dead(
                item, received, item.reason or "attempts exhausted", None, Usage(), 0.0, report, job, deadline
            )
            return

        started = asyncio.get_running_loop().time()
        runner = self.enricher if job.options.kind is JobKind.ENRICHMENT else self.verifier
        if job.options.company_data and self.company_runner is not None:
            runner = self.company_runner
        policy = await self._policy(job, item)
        if (refused := policy.refusal(item.lead)) is not None:  # a refused region: before any paid call
            result = refused
        elif runner is None:  # a verification job on a processor built without a verifier: a wiring error
            result = EnrichmentResult(item.lead.domain, LeadStatus.FAILED, reason="no verifier configured")
        else:
            budget = self.spend_caps.for_job(job) if self.spend_caps is not None else None
            if self.screen is None:  # (an enricher written before suppression takes no screen)
                result = await runner.enrich(item.lead, deadline, budget)
            else:  # the workspace's suppression lists, and the service-wide one (`engine.screen`)
                result = await runner.enrich(item.lead, deadline, budget, self.screen(job.workspace_id))
        if result.attempt_consumed and item.attempts >= max_attempts:
            result = result.settled()  # the last try: unsettled addresses are kept as `risky`
        if (resolved := resolved_lead(item, result)) is not None:
            # A name-only lead's region is known once its domain is: refused, nothing found is kept.
            policy = await self._policy(job, dataclasses.replace(item, lead=resolved))
            if (refused := policy.refusal(resolved)) is not None:
                result = dataclasses.replace(refused, usage=result.usage, resolution=result.resolution)
        result = await self._store_emails(item, result, policy)
        result = await store_company(self.companies, item, result)
        result = await store_lead_enrichment(self.lead_records, item, result, self.clock())
        report.count(job, result)
        elapsed = asyncio.get_running_loop().time() - started
        record = policy.stamp(result.as_record())  # lawful basis, review state, region flag
        now = self.clock()

        if result.status is LeadStatus.DEFERRED:
            reason = result.reason or "deferred"
            # What this attempt already spent is the job's cost, finished or not.
            spent = dataclasses.replace(_delta(result.usage, elapsed, found=False, failed=False), processed=0)
            if not result.attempt_consumed:
                # Hidden until this invocation is over, so it does not come straight back to it, and at
                # least as long as a throttling provider asked (its Retry-After).
                hidden = math.ceil(
                    max(deadline.remaining() + self.settings.margin_seconds, result.retry_after or 0.0, 0.0)
                )
                next_at = now + timedelta(seconds=hidden)
                # A hand-back sends too: SQS counts its receives, and a leader handed back run after run
                # could reach the DLQ without ever writing another outcome, holding its chain back.
                await self._send_next(item, job)
                if await self.store.defer_item(
                    item, reason=reason, next_attempt_at=next_at, charge_attempt=False, now=now, spent=spent
                ):
                    await self.queue.retry_later(received, hidden)
                    report.released += 1
                if result.budget_reached:
                    await self._pause_at_cap(job)
                return
            if item.attempts >= max_attempts:
                await self._dead(
                    item,
                    received,
                    f"attempts exhausted: {reason}",
                    record,
                    result.usage,
                    elapsed,
                    report,
                    job,
                    deadline,
                )
                return
            delay = self.retry.delay(item.attempts, result.retry_after)
            next_at = now + timedelta(seconds=delay)
            await self._send_next(item, job)
            if await self.store.defer_item(
                item, reason=reason, next_attempt_at=next_at, charge_attempt=True, now=now, spent=spent
            ):
                await self.queue.retry_later(received, delay)
                report.deferred += 1
            return

        status = ItemStatus.from_lead_status(result.status)
        delta = _delta(
            result.usage,
            elapsed,
            found=status is ItemStatus.FOUND,
            risky=status is ItemStatus.RISKY,
            failed=status is ItemStatus.FAILED,
            created_emails=len(result.emails),
        )
        await self._send_next(item, job)
        if await self.store.finish_item(
            item, status, reason=result.reason, result=record, delta=delta, now=now
        ):
            await self.queue.delete(received)
            report.finished += 1
            report.advanced_jobs[(job.workspace_id, job.job_id)] = job
            await self._check_completion(job, report, deadline)
        else:
            report.duplicates += 1  # our lease expired and another processor took over: it will finish

    async def _pause_at_cap(self, job: Job) -> None:
        """A cap was reached before a paid call: the job pauses (its other messages are dropped as they come,
        its items wait), and one `job.paused` is owed: only the processor whose write paused it sends it."""
        now = self.clock()
        paused = await self.store.pause_job(job.workspace_id, job.job_id, reason=BUDGET_REACHED, now=now)
        if paused is not None and self.audit is not None:  # once, by the processor whose write paused it
            entry = AuditEntry(job.workspace_id, now, "processor", "job.pause", job.job_id, job.job_id)
            try:
                await self.audit.append(dataclasses.replace(entry, detail={"reason": BUDGET_REACHED}))
            except Exception as exc:  # the job is paused all the same; the entry stays in the log
                log.error(
                    "audit entry not written", extra={"error": type(exc).__name__, "job_id": job.job_id}
                )
        if paused is not None and self.events is not None and paused.options.wants(JOB_PAUSED):
            await self.events.enqueue(paused, JOB_PAUSED)

    async def _send_next(self, item: Item, job: Job) -> None:
        """Send the items this one leads into the queue (`leadenrich.jobs.window`), in the job's band, before
        the write of its first outcome, which marks it `sent_next`: a crash in between sends them again,
        never not at all."""
        if item.sent_next:
            return
        ids = successors(item.item_id, job.options.queue_window, job.counters.total)
        if ids:
            await self.queue.send([WorkMessage.for_item(job, i) for i in ids])

    async def _send_next_of_skipped(self, job: Job, item_id: str) -> None:
        """A cancelled job's items are skipped one message at a time, so the chain must go on through them
        too: otherwise its unsent items would stay queued forever instead of skipped. Whatever its status
        short of terminal (another processor may hold it, or have died holding it): a duplicate is
        harmless, a missing send is not."""
        if not successors(item_id, job.options.queue_window, job.counters.total):
            return
        item = await self.store.get_item(job.workspace_id, job.job_id, item_id)
        if item is not None and not item.status.terminal:
            await self._send_next(item, job)

    async def _policy(self, job: Job, item: Item) -> ItemPolicy:
        """The item's personal-data rules: its job's lawful basis, and its workspace's review and region
        settings when a settings store is wired (the runtime passes a cached one: no read per item)."""
        settings = await self.privacy.get(job.workspace_id) if self.privacy is not None else None
        return ItemPolicy.of(job, item.lead, settings)

    async def _store_emails(
        self, item: Item, result: EnrichmentResult, policy: ItemPolicy
    ) -> EnrichmentResult:
        """Write the addresses of a final result for the item's stored lead, before the result commits
        (none while they wait for review: `ItemPolicy.email_write`). A failed write turns the result into a
        charged deferral: the item runs again after a backoff (its paid answers are cached), and dies after
        max_attempts like any other failure."""
        write = policy.email_write(item, result)
        if self.emails is None or write is None or result.status is LeadStatus.DEFERRED:
            return result
        try:
            await self.emails.save([write])
        except Exception as exc:
            # The type only: the error's text may quote the rows (addresses) it refused.
            log.warning("emails not stored", extra={"error": type(exc).__name__, "job": item.job_id})
            return write_failed(result, "storing the emails", exc)
        return result

    async def _not_claimed(self, received: Received, report: DrainReport) -> None:
        """Someone else holds the item, it is finished, or its job was cancelled meanwhile."""
        msg = received.message
        report.duplicates += 1
        current = await self.store.get_item(msg.workspace_id, msg.job_id, msg.item_id)
        if current is None or current.status.terminal:
            await self.queue.delete(received)  # a duplicate delivery of finished work
            return
        # Held by another processor: come back when its lease would have expired, in case it dies.
        wait = self.settings.visibility_timeout
        if current.lease_until is not None:
            wait = max(1, int((current.lease_until - self.clock()).total_seconds()) + 1)
        await self.queue.retry_later(received, wait)

    async def _dead(
        self,
        item: Item,
        received: Received,
        reason: str,
        record: dict[str, object] | None,
        usage: Usage,
        elapsed: float,
        report: DrainReport,
        job: Job,
        deadline: Deadline,
    ) -> None:
        delta = _delta(usage, elapsed, found=False, failed=True)
        await self._send_next(item, job)
        if await self.store.finish_item(
            item, ItemStatus.DEAD, reason=reason, result=record, delta=delta, now=self.clock()
        ):
            await record_dead(self.lead_records, item, reason, self.clock())
            await self.queue.dead_letter(received, reason[:256])
            report.dead += 1
            report.advanced_jobs[(job.workspace_id, job.job_id)] = job
            await self._check_completion(job, report, deadline)

    async def _check_completion(self, job: Job, report: DrainReport, deadline: Deadline) -> None:
        completed = await self.store.complete_job_if_done(job.workspace_id, job.job_id, self.clock())
        if completed is not None:
            report.completed_jobs.append(completed)
            if self.callbacks is not None:
                # Only the processor whose write completed the job gets here: one callback per job. Its
                # failure is recorded and retried by the callbacks, never the item's problem.
                try:
                    await self.callbacks.job_completed(completed, deadline)
                except Exception as exc:
                    log.error("job callback failed", extra={"error": type(exc).__name__, "job": job.job_id})


def _delta(
    usage: Usage, elapsed: float, *, found: bool, failed: bool, created_emails: int = 0, risky: bool = False
) -> CounterDelta:
    return CounterDelta(
        processed=1,
        found=int(found),
        risky=int(risky),
        failed=int(failed),
        created_emails=created_emails,
        api_calls_hunter=usage.hunter.calls,
        api_calls_perplexity=usage.perplexity.calls,
        credits_hunter=usage.hunter.credits,
        cost_perplexity_usd=usage.perplexity.cost_usd,
        processing_time_seconds=round(elapsed, 3),
    )


__all__ = ["CompletionCallbacks", "DrainReport", "LeadEnricher", "Processor", "ProcessorSettings"]
