"""The job service: what the API handlers call, one method per route. It stores and enqueues; the processor
does the work. Operations on existing jobs (cancel, retry, pause, resume, update, bulk) are
`leadenrich.jobs.control_service`.

Creating a job (sources, idempotency, the quota, queue windows) is `leadenrich.jobs.creation`; this module
adds the queries and operations on jobs. A job that is not the workspace's is `JobNotFound` from every
method that names one (the API answers 404 from that one exception), so no caller checks first.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from leadenrich.auth.quota import LeadQuota
from leadenrich.jobs.control_service import RETRYABLE, JobControl, JobEventOutbox
from leadenrich.jobs.creation import (
    ITEM_ID_WIDTH,
    SUPABASE_REQUIRED,
    Created,
    DryRun,
    IdempotentLookup,
    Selection,
    new_job_id,
    request_fingerprint,
)
from leadenrich.jobs.errors import IdempotencyKeyReused, JobNotFound, NotConfigured, RequestRejected
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus, Page, WorkMessage
from leadenrich.jobs.ports import (
    Activity,
    JobStore,
    LeadSource,
    LeadStats,
    QueueDepth,
    StatsReader,
    WorkQueue,
)
from leadenrich.jobs.window import DEFAULT_WINDOW


class CallbackLog(Protocol):
    """Where a job's callback attempts are recorded (`leadenrich.webhooks.outbound.WebhookLog`)."""

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]: ...


# The last hour as a series (`GET /metrics` `last_hour_series`, the console's chart): 12 buckets of 5 minutes.
SERIES_BUCKETS = 12
SERIES_BUCKET = timedelta(minutes=5)


@dataclass(frozen=True)
class ActivityBucket:
    """Five whole UTC minutes of the workspace's activity, from `start` (a minute's first second)."""

    start: datetime
    activity: Activity


@dataclass(frozen=True)
class Metrics:
    """What `GET /metrics` reports: the queue now, and the workspace's last hour, in all and per bucket."""

    depth: QueueDepth
    last_hour: Activity
    last_hour_series: tuple[ActivityBucket, ...] = ()


@dataclass(frozen=True)
class JobDetail:
    """`GET /jobs/{id}`: the job, and its callback attempts (oldest first) when it has a webhook_url."""

    job: Job
    callbacks: list[dict[str, Any]] | None = None


class JobService(JobControl):
    def __init__(
        self,
        store: JobStore,
        queue: WorkQueue,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = new_job_id,
        *,
        leads: LeadSource | None = None,
        lead_stats: StatsReader | None = None,
        quota: LeadQuota | None = None,
        daily_lead_quota: int = 0,
        queue_window: int | None = DEFAULT_WINDOW,
        callback_log: CallbackLog | None = None,
        events: JobEventOutbox | None = None,
    ) -> None:
        super().__init__(
            store,
            queue,
            clock,
            new_id,
            leads=leads,
            quota=quota,
            daily_lead_quota=daily_lead_quota,
            queue_window=queue_window,
        )
        self.lead_stats = lead_stats
        self.callback_log = callback_log  # None: jobs are shown without their callback attempts
        self.events = events  # None: no job.cancelled / job.paused events

    async def stats(self, workspace_id: str) -> LeadStats:
        if self.lead_stats is None:
            raise NotConfigured(f"GET /stats {SUPABASE_REQUIRED}")
        return await self.lead_stats.stats(workspace_id)

    async def get_job(self, workspace_id: str, job_id: str) -> Job:
        job = await self.store.get_job(workspace_id, job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def job_detail(self, workspace_id: str, job_id: str) -> JobDetail:
        """The job and, for a job with a webhook_url, every delivery attempt of its callback."""
        job = await self.get_job(workspace_id, job_id)
        if not job.options.webhook_url or self.callback_log is None:
            return JobDetail(job)
        return JobDetail(job, await self.callback_log.attempts(job.workspace_id, job.job_id))

    async def list_jobs(
        self,
        workspace_id: str,
        *,
        status: JobStatus | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        return await self.store.list_jobs(workspace_id, status=status, tag=tag, limit=limit, cursor=cursor)

    async def list_items(
        self,
        workspace_id: str,
        job_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Item]:
        """A page of the job's items; JobNotFound rather than an empty page for another workspace's job."""
        await self.get_job(workspace_id, job_id)
        return await self.store.list_items(workspace_id, job_id, status=status, limit=limit, cursor=cursor)

    async def redrive(self, workspace_id: str, max_messages: int = 1000) -> int:
        """The workspace's dead-lettered messages back to the queue (each band's DLQ to its own queue), and
        their items back to queued; returns the count. Other workspaces' dead letters stay: a redrive
        retries, and retries cost credits."""
        moved = await self.queue.redrive(max_messages, workspace_id=workspace_id)
        by_job: dict[tuple[str, str], set[str]] = defaultdict(set)
        for message in moved:
            by_job[(message.workspace_id, message.job_id)].add(message.item_id)
        for (workspace_id, job_id), moved_ids in by_job.items():
            requeued = await self.store.requeue_items(
                workspace_id, job_id, frozenset({ItemStatus.DEAD}), self.clock()
            )
            # Dead items of these jobs whose messages were not in the DLQ batch still need a message.
            missing = [i.item_id for i in requeued if i.item_id not in moved_ids]
            job = await self.store.get_job(workspace_id, job_id) if missing else None
            if job is not None:
                await self.queue.send([WorkMessage.for_item(job, item_id) for item_id in missing])
        return len(moved)

    async def metrics(self, workspace_id: str) -> Metrics:
        now = self.clock()
        depth = await self.queue.depth()
        last_hour = await self.store.activity(workspace_id, since=now - timedelta(hours=1), now=now)
        series = await self._series(workspace_id, now)
        return Metrics(depth=depth, last_hour=last_hour, last_hour_series=series)

    async def _series(self, workspace_id: str, now: datetime) -> tuple[ActivityBucket, ...]:
        """The last 60 whole minutes in `SERIES_BUCKETS` buckets, oldest first, the newest ending with `now`'s
        minute (so a finish a second ago is in the chart). The store counts whole minutes with both ends
        included, so each bucket asks for its own five minutes only and no minute is counted twice. One
        store read per bucket, concurrently: the stores already answer any window from their minute rows."""
        last_minute = now.replace(second=0, microsecond=0)
        to_end = SERIES_BUCKET - timedelta(minutes=1)  # from a bucket's first minute to its last
        starts = [last_minute - to_end - SERIES_BUCKET * back for back in reversed(range(SERIES_BUCKETS))]
        counted = await asyncio.gather(
            *(self.store.activity(workspace_id, since=start, now=start + to_end) for start in starts)
        )
        return tuple(ActivityBucket(start, activity) for start, activity in zip(starts, counted, strict=True))


__all__ = [
    "ITEM_ID_WIDTH",
    "RETRYABLE",
    "SERIES_BUCKET",
    "SERIES_BUCKETS",
    "SUPABASE_REQUIRED",
    "ActivityBucket",
    "CallbackLog",
    "Created",
    "DryRun",
    "IdempotencyKeyReused",
    "IdempotentLookup",
    "JobDetail",
    "JobNotFound",
    "JobService",
    "Metrics",
    "NotConfigured",
    "RequestRejected",
    "Selection",
    "new_job_id",
    "request_fingerprint",
]
