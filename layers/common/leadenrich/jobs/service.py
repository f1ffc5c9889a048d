"""The job service: what the API handlers call, one method per route. It stores and enqueues; the processor
does the work.

Creating a job (sources, idempotency, the quota, queue windows) is `leadenrich.jobs.creation`; this module
adds the queries and operations on jobs. A job that is not the workspace's is `JobNotFound` from every
method that names one (the API answers 404 from that one exception), so no caller checks first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from leadenrich.auth.quota import LeadQuota
from leadenrich.jobs.creation import (
    ITEM_ID_WIDTH,
    SUPABASE_REQUIRED,
    Created,
    DryRun,
    IdempotentLookup,
    JobCreation,
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

RETRYABLE = frozenset({ItemStatus.FAILED, ItemStatus.DEAD})


class CallbackLog(Protocol):
    """Where a job's callback attempts are recorded (`leadenrich.webhooks.outbound.WebhookLog`)."""

    async def attempts(self, workspace_id: str, job_id: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Metrics:
    """What `GET /metrics` reports: the queue now, and the workspace's last hour."""

    depth: QueueDepth
    last_hour: Activity


@dataclass(frozen=True)
class JobDetail:
    """`GET /jobs/{id}`: the job, and its callback attempts (oldest first) when it has a webhook_url."""

    job: Job
    callbacks: list[dict[str, Any]] | None = None


class JobService(JobCreation):
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

    async def cancel_job(self, workspace_id: str, job_id: str) -> Job:
        """Stops the job's remaining items (the processor skips them); finished items keep their results."""
        job = await self.store.cancel_job(workspace_id, job_id, self.clock())
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def retry_job(self, workspace_id: str, job_id: str) -> list[Item]:
        """Failed and dead-lettered items go back to the queue (their job's band) with fresh attempts."""
        job = await self.get_job(workspace_id, job_id)
        items = await self.store.requeue_items(workspace_id, job_id, RETRYABLE, self.clock())
        await self.queue.send([WorkMessage.for_item(job, item.item_id) for item in items])
        return items

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
        return Metrics(depth=depth, last_hour=last_hour)


__all__ = [
    "ITEM_ID_WIDTH",
    "RETRYABLE",
    "SUPABASE_REQUIRED",
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
