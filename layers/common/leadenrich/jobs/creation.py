"""Creating jobs: where a job's leads come from, storing it (idempotently) and enqueuing its first items.

Where a job's leads come from (`CreateJobRequest.source`):
- without Supabase: `leads` and `domains` as given, one item each (`lead_ids`, `process_all` and
  `skip_existing` are refused, naming the field);
- with Supabase (a `LeadSource`): every item is tied to a stored lead (`Item.lead_id`), so the processor
  writes its addresses to `emails`. `leads` are matched to stored leads or added; `domains` select every
  stored lead with the domain (adding one when none has it); `lead_ids` select by id; `process_all` every
  lead with a domain. `skip_existing` leaves out leads that have an active email;
- `emails` (a verification job, with or without Supabase): one item per address, as given, tied to no
  stored lead (nothing is written to `emails`; the verdicts are the items' results).
Request-bounded sources (at most 10,000 leads or ids in the body) are resolved first and stored with the
job in one call. `process_all` is bounded by the table instead: its pages (500 leads) go to the store one at
a time (`ItemAppender`) and only then is anything enqueued, so the API Lambda never holds more than a page.

Only a job's first `queue_window` items are enqueued at creation; the processor sends the rest as items
finish (`leadenrich.jobs.window`), so a large job cannot bury the jobs created after it.

With a `LeadQuota`, a job's leads are reserved from the workspace's daily quota before it is stored (page by
page for `process_all`) and given back when it is not created; past the quota, `QuotaExceeded` (429).
The queries and operations on jobs are `leadenrich.jobs.service.JobService`, built on this class.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from leadenrich.auth.quota import LeadQuota, QuotaExceeded, seconds_to_midnight, utc_day
from leadenrich.engine.domains import normalize_domain
from leadenrich.jobs.errors import IdempotencyKeyReused, RequestRejected
from leadenrich.jobs.models import (
    JOB_COMPLETED,
    Item,
    Job,
    JobCounters,
    JobOptions,
    JobStatus,
    LawfulBasis,
    SourcedLead,
    WorkMessage,
)
from leadenrich.jobs.ports import (
    IdempotencyConflict,
    ItemAppender,
    JobStore,
    LeadSource,
    WorkQueue,
)
from leadenrich.jobs.reenrich import reenrich_days, skipped_recent
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB, CreateJobRequest
from leadenrich.jobs.window import DEFAULT_WINDOW, first_count
from leadenrich.privacy.ports import WorkspaceSettingsStore
from leadenrich.uploads.ports import BlobStore
from leadenrich.uploads.service import DEFAULT_MAX_UPLOAD_BYTES

SUPABASE_REQUIRED = "requires Supabase: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"
ITEM_ID_WIDTH = 6  # zero-padded item ids sort in input order; 10,000 items need 5 digits
_ENQUEUE_CHUNK = 1000  # messages generated and sent at a time when a job was filled page by page


@dataclass
class Selection:
    """How a Supabase-backed job's leads were chosen (the 202 answer's `selection`)."""

    source: str
    leads: int = 0  # the job's items
    skipped_existing: int | None = 0  # left out: an active email already (None: filtered in SQL, not counted)
    next_after_lead_id: str | None = None  # process_all: more leads remain; pass as after_lead_id
    skipped_recent: int = 0  # process_all: left out by the re-enrichment window (docs/auto-enrichment.md)


@dataclass(frozen=True)
class DryRun:
    """What a process_all job would take, counted without creating anything."""

    leads: int  # what the job would take: matching, capped at the request's limit
    matching: int  # leads the selection matches (after after_lead_id)
    with_domain: int
    skipped_existing: int  # leads with a domain left out for an active email
    skipped_recent: int = 0  # left out by the re-enrichment window


@dataclass(frozen=True)
class Created:
    job: Job
    created: bool  # False when an earlier request with the same idempotency key made it
    queue_calls: int
    selection: Selection | None = None  # with Supabase


@runtime_checkable
class IdempotentLookup(Protocol):
    """A job store that can find the job an idempotency key made (optional: without it, a replay that
    arrives once the quota is spent is answered 429 instead of replayed)."""

    async def job_for_idempotency_key(self, workspace_id: str, key: str) -> Job | None: ...


def new_job_id() -> str:
    return f"job_{uuid.uuid4().hex}"


def request_fingerprint(request: CreateJobRequest) -> str:
    """The request as validated, canonical JSON hashed: key order, whitespace and defaults left implicit or
    spelt out do not change it; any field that changes the job does. `lawful_basis` left out is not spelt:
    a request made before it existed keeps its fingerprint (the default it gets is the workspace's)."""
    body = request.model_dump(mode="json", exclude={"lawful_basis"} if request.lawful_basis is None else None)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _same_request(new: Job, earlier: Job) -> Job:
    """The earlier job when `new` repeats its request; IdempotencyKeyReused when the body differs."""
    if earlier.request_fingerprint is not None and earlier.request_fingerprint != new.request_fingerprint:
        raise IdempotencyKeyReused(earlier.job_id)
    return earlier


class JobCreation:
    """Job creation (and process_all's dry run); `JobService` adds the queries and operations."""

    def __init__(
        self,
        store: JobStore,
        queue: WorkQueue,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = new_job_id,
        *,
        leads: LeadSource | None = None,
        quota: LeadQuota | None = None,
        daily_lead_quota: int = 0,
        queue_window: int | None = DEFAULT_WINDOW,
    ) -> None:
        self.store = store
        self.queue_window = queue_window or None  # 0: every item enqueued at creation
        self.quota = quota if daily_lead_quota > 0 else None  # 0: no quota
        self.daily_lead_quota = daily_lead_quota
        self.queue = queue
        self.clock = clock
        self.new_id = new_id
        self.leads = leads
        # Set by the wiring (`runtime.job_service`): the default lawful basis of a workspace's jobs.
        self.workspace_settings: WorkspaceSettingsStore | None = None
        # Set by the wiring too: where uploaded files are (`upload_id` jobs: `jobs.upload_creation`).
        self.blobs: BlobStore | None = None
        self.upload_max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES

    async def _lawful_basis(self, workspace_id: str, request: CreateJobRequest) -> LawfulBasis:
        """The request's basis, else the workspace's default, else legitimate_interest."""
        if request.lawful_basis is not None or self.workspace_settings is None:
            return request.lawful_basis or LawfulBasis.LEGITIMATE_INTEREST
        return LawfulBasis((await self.workspace_settings.get(workspace_id)).default_lawful_basis)

    async def _reenrich_days(self, workspace_id: str, request: CreateJobRequest) -> int:
        return await reenrich_days(self.workspace_settings, workspace_id, force=request.force)

    async def _count_recent(
        self, source: LeadSource, workspace_id: str, request: CreateJobRequest, days: int, last: str | None
    ) -> int:
        first = str(request.after_lead_id) if request.after_lead_id else None
        return await skipped_recent(source, workspace_id, days, skip=request.skip, first=first, last=last)

    def _new_job(
        self,
        workspace_id: str,
        request: CreateJobRequest,
        idempotency_key: str | None,
        total: int,
        lawful_basis: LawfulBasis,
    ) -> Job:
        now = self.clock()
        run_at = request.run_at
        return Job(
            workspace_id=workspace_id,
            job_id=self.new_id(),
            status=JobStatus.PENDING,
            created_at=now,
            options=JobOptions(
                priority=request.priority,
                max_attempts=request.max_attempts,
                skip_existing=request.skip,
                webhook_url=request.webhook_url,
                tags=tuple(request.tags),
                webhook_events=tuple(request.webhook_events or (JOB_COMPLETED,)),
                queue_window=self.queue_window,
                run_at=run_at,
                max_credits=request.max_credits,
                max_cost_usd=request.max_cost_usd,
                kind=request.kind,
                lawful_basis=lawful_basis,
                company_data=request.company_data,
            ),
            counters=JobCounters(total=total),
            idempotency_key=idempotency_key,
            request_fingerprint=request_fingerprint(request) if idempotency_key is not None else None,
            # A start in the future waits in the due index; the processor releases it (`jobs.control`).
            due_at=run_at if run_at is not None and run_at > now else None,
        )

    async def create_job(
        self, workspace_id: str, request: CreateJobRequest, idempotency_key: str | None = None
    ) -> Created:
        """Store the job and its items, then enqueue them. Raises RequestRejected (naming the field) for
        what this deployment or the stored leads cannot serve, and LeadStoreError when Supabase fails."""
        basis = await self._lawful_basis(workspace_id, request)
        if request.upload_id is not None:  # read later, by the processor (docs/uploads.md)
            from leadenrich.jobs.upload_creation import create_from_upload  # it builds on this module

            return await create_from_upload(self, workspace_id, request, idempotency_key, basis)
        if self.leads is None or request.emails:  # addresses to verify are never stored leads
            return await self._create_inline(workspace_id, request, idempotency_key, basis)
        if request.dry_run:
            raise RequestRejected("dry_run", "answered by preview(), not create_job()")
        if request.process_all:
            return await self._create_streamed(workspace_id, request, idempotency_key, self.leads, basis)
        selection = Selection(request.source)
        sourced: list[SourcedLead] = []
        async with aclosing(self._selected(workspace_id, request, self.leads, selection)) as pages:
            async for page in pages:
                sourced += page
                if len(sourced) > MAX_LEADS_PER_JOB:  # domains can match many leads each
                    raise RequestRejected(
                        request.source, f"selects more than {MAX_LEADS_PER_JOB:,} leads: send fewer per job"
                    )
        job = self._new_job(workspace_id, request, idempotency_key, len(sourced), basis)
        width = max(ITEM_ID_WIDTH, len(str(len(sourced))))
        items = [
            Item(workspace_id, job.job_id, f"{i:0{width}d}", lead=s.lead, lead_id=s.lead_id)
            for i, s in enumerate(sourced)
        ]
        selection.leads = len(items)
        return await self._store_and_enqueue(job, items, selection)

    async def _create_inline(
        self, workspace_id: str, request: CreateJobRequest, idempotency_key: str | None, basis: LawfulBasis
    ) -> Created:
        """Without Supabase: the body's leads as given."""
        if request.source in ("lead_ids", "process_all"):
            raise RequestRejected(request.source, SUPABASE_REQUIRED)
        if request.skip:
            raise RequestRejected(
                "skip_existing", f"{SUPABASE_REQUIRED} (no addresses are stored without it)"
            )
        leads = request.all_leads()
        job = self._new_job(workspace_id, request, idempotency_key, len(leads), basis)
        width = max(ITEM_ID_WIDTH, len(str(len(leads))))
        items = [
            Item(workspace_id=workspace_id, job_id=job.job_id, item_id=f"{i:0{width}d}", lead=lead)
            for i, lead in enumerate(leads)
        ]
        return await self._store_and_enqueue(job, items, None)

    async def _reserve(self, workspace_id: str, count: int) -> Callable[[], Awaitable[None]]:
        """Take `count` leads from the workspace's quota for today (raises QuotaExceeded, taking nothing);
        returns what gives them back."""
        quota, limit = self.quota, self.daily_lead_quota
        if quota is None or count <= 0:
            return _nothing
        now = self.clock()
        day = utc_day(now)
        if not await quota.reserve(workspace_id, day, count, limit):
            used = await quota.used(workspace_id, day)
            raise QuotaExceeded(limit, used, count, seconds_to_midnight(now))

        async def release() -> None:
            await quota.release(workspace_id, day, count)

        return release

    async def _store_and_enqueue(self, job: Job, items: list[Item], selection: Selection | None) -> Created:
        try:
            release = await self._reserve(job.workspace_id, len(items))  # before the job exists
        except QuotaExceeded:
            replayed = await self._replay(job)
            if replayed is None:
                raise
            return replayed
        try:
            stored = await self.store.create_job(job, items)
        except IdempotencyConflict as conflict:
            await release()  # a replay: the first request's job took its leads already
            return Created(_same_request(job, conflict.job), created=False, queue_calls=0)
        except BaseException:
            await release()
            raise
        calls = 0
        if job.due_at is None:  # a scheduled job's first items are sent when the processor releases it
            first = items[: first_count(len(items), job.options.queue_window)]  # the processor sends the rest
            calls = await self.queue.send([WorkMessage.for_item(job, i.item_id) for i in first])
        if not items:
            stored = (
                await self.store.complete_job_if_done(job.workspace_id, job.job_id, self.clock()) or stored
            )
        return Created(stored, created=True, queue_calls=calls, selection=selection)

    async def _replay(self, job: Job) -> Created | None:
        """The earlier job of a replayed request (its leads were counted when it was made)."""
        if job.idempotency_key is None or not isinstance(self.store, IdempotentLookup):
            return None
        earlier = await self.store.job_for_idempotency_key(job.workspace_id, job.idempotency_key)
        if earlier is None:
            return None
        return Created(_same_request(job, earlier), created=False, queue_calls=0)

    async def _selected(
        self, workspace_id: str, request: CreateJobRequest, source: LeadSource, selection: Selection
    ) -> AsyncGenerator[list[SourcedLead], None]:
        """The pages of the request's stored leads, skip_existing applied and counted."""
        if request.lead_ids is not None:
            ids = [str(i) for i in request.lead_ids]
            found: set[str] = set()
            async for page in source.by_ids(workspace_id, list(dict.fromkeys(ids))):  # each id once
                found.update(lead.lead_id for lead in page)
                yield self._skipping(page, request.skip, selection)
            # Checked once every page is read: the job is created only after this generator ends.
            missing = next((n for n, lead_id in enumerate(ids) if lead_id not in found), None)
            if missing is not None:
                raise RequestRejected(
                    f"lead_ids.{missing}", "no lead with this id and a domain in the workspace"
                )
            return
        if request.domains is not None:
            domains = list(dict.fromkeys(normalize_domain(d) for d in request.domains))
            async for page in source.by_domains(workspace_id, domains):
                yield self._skipping(page, request.skip, selection)
            return
        async for page in source.register(workspace_id, request.all_leads()):
            yield self._skipping(page, request.skip, selection)

    @staticmethod
    def _skipping(page: list[SourcedLead], skip: bool, selection: Selection) -> list[SourcedLead]:
        if not skip:
            return page
        kept = [lead for lead in page if not lead.has_active_email]
        selection.skipped_existing = (selection.skipped_existing or 0) + len(page) - len(kept)
        return kept

    async def _create_streamed(
        self,
        workspace_id: str,
        request: CreateJobRequest,
        idempotency_key: str | None,
        source: LeadSource,
        basis: LawfulBasis,
    ) -> Created:
        """process_all: the job first (an idempotent replay stops here), then its items a page at a time,
        then the messages, generated in chunks. A store that cannot append gets every item at once."""
        selection = Selection("process_all", skipped_existing=None)
        days = await self._reenrich_days(workspace_id, request)
        limit = request.limit or MAX_LEADS_PER_JOB
        after = str(request.after_lead_id) if request.after_lead_id else None
        job = self._new_job(workspace_id, request, idempotency_key, 0, basis)
        if not isinstance(self.store, ItemAppender):
            items: list[Item] = []
            async with aclosing(
                source.enrichable(
                    workspace_id,
                    skip_existing=request.skip,
                    after_id=after,
                    limit=limit,
                    reenrich_after_days=days,
                )
            ) as pages:
                async for page in pages:
                    items += self._page_items(job, page, len(items))
                    after = page[-1].lead_id if page else after
            selection.leads = len(items)
            selection.next_after_lead_id = await self._more_after(
                source, workspace_id, request, after, len(items), days
            )
            last = after if selection.next_after_lead_id else None
            selection.skipped_recent = await self._count_recent(source, workspace_id, request, days, last)
            return await self._store_and_enqueue(job, items, selection)

        appender: ItemAppender = self.store
        # Filled page by page: its due time is set only once every page is stored, so no processor can
        # release a scheduled job whose first items are not there yet.
        due_at, job = job.due_at, dataclasses.replace(job, due_at=None)
        try:
            stored = await self.store.create_job(job, [])
        except IdempotencyConflict as conflict:
            return Created(_same_request(job, conflict.job), created=False, queue_calls=0)
        count = 0
        releases: list[Callable[[], Awaitable[None]]] = []
        try:
            async with aclosing(
                source.enrichable(
                    workspace_id,
                    skip_existing=request.skip,
                    after_id=after,
                    limit=limit,
                    reenrich_after_days=days,
                )
            ) as pages:
                async for page in pages:
                    items = self._page_items(job, page, count)
                    releases.append(await self._reserve(workspace_id, len(items)))  # page by page
                    await appender.append_items(stored, items)
                    count += len(items)
                    after = page[-1].lead_id if page else after
                    del items, page  # done with: what keeps the Lambda at one page of leads in memory
            selection.next_after_lead_id = await self._more_after(
                source, workspace_id, request, after, count, days
            )
            last = after if selection.next_after_lead_id else None
            selection.skipped_recent = await self._count_recent(source, workspace_id, request, days, last)
        except Exception:
            await self.store.cancel_job(workspace_id, job.job_id, self.clock())  # never enqueued: inert
            for release in releases:
                await release()
            raise
        calls = 0
        if due_at is not None and count:
            await self.store.update_job(
                workspace_id,
                job.job_id,
                options=job.options,
                due_at=due_at,
                expected_due_at=None,
                now=self.clock(),
            )
        else:
            for messages in _messages(job, first_count(count, job.options.queue_window)):
                calls += await self.queue.send(messages)
        now = self.clock()
        final = await self.store.complete_job_if_done(workspace_id, job.job_id, now) if count == 0 else None
        final = final or await self.store.get_job(workspace_id, job.job_id) or stored
        selection.leads = count
        return Created(final, created=True, queue_calls=calls, selection=selection)

    @staticmethod
    def _page_items(job: Job, page: list[SourcedLead], start: int) -> list[Item]:
        return [
            Item(
                job.workspace_id, job.job_id, f"{start + n:0{ITEM_ID_WIDTH}d}", lead=s.lead, lead_id=s.lead_id
            )
            for n, s in enumerate(page)
        ]

    @staticmethod
    async def _more_after(
        source: LeadSource,
        workspace_id: str,
        request: CreateJobRequest,
        after: str | None,
        taken: int,
        days: int = 0,
    ) -> str | None:
        """The cursor for the next job when this one stopped at its limit and a lead remains (reads one)."""
        if after is None or taken < (request.limit or MAX_LEADS_PER_JOB):
            return None
        async for page in source.enrichable(
            workspace_id, skip_existing=request.skip, after_id=after, limit=1, reenrich_after_days=days
        ):
            if page:
                return after
        return None

    async def preview(self, workspace_id: str, request: CreateJobRequest) -> DryRun:
        """process_all's dry run: one count, nothing stored or enqueued."""
        if not request.process_all:
            raise RequestRejected("dry_run", "only with process_all")
        if self.leads is None:
            raise RequestRejected("process_all", SUPABASE_REQUIRED)
        after = str(request.after_lead_id) if request.after_lead_id else None
        days = await self._reenrich_days(workspace_id, request)
        counts = await self.leads.count_enrichable(workspace_id, after_id=after, reenrich_after_days=days)
        recent = counts.recent_missing_email if request.skip else counts.recent
        matching = (counts.missing_email if request.skip else counts.with_domain) - recent
        return DryRun(
            leads=min(matching, request.limit or MAX_LEADS_PER_JOB),
            matching=matching,
            with_domain=counts.with_domain,
            skipped_existing=counts.with_domain - counts.missing_email if request.skip else 0,
            skipped_recent=recent,
        )


async def _nothing() -> None:
    return None


def _messages(job: Job, count: int) -> Iterator[list[WorkMessage]]:
    """The messages of items 0..count-1, made a chunk at a time (the items are not held)."""
    for start in range(0, count, _ENQUEUE_CHUNK):
        yield [
            WorkMessage.for_item(job, f"{i:0{ITEM_ID_WIDTH}d}")
            for i in range(start, min(count, start + _ENQUEUE_CHUNK))
        ]
