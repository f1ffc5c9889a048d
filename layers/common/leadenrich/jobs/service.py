"""The job service: what the API handlers call. It stores and enqueues; the processor does the work."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadenrich.jobs.models import (
    Item,
    ItemStatus,
    Job,
    JobCounters,
    JobOptions,
    JobStatus,
    Page,
    WorkMessage,
)
from leadenrich.jobs.ports import Activity, IdempotencyConflict, JobStore, QueueDepth, WorkQueue
from leadenrich.jobs.requests import CreateJobRequest

RETRYABLE = frozenset({ItemStatus.FAILED, ItemStatus.DEAD})


@dataclass(frozen=True)
class Metrics:
    """What `GET /metrics` reports: the queue now, and the workspace's last hour."""

    depth: QueueDepth
    last_hour: Activity


@dataclass(frozen=True)
class Created:
    job: Job
    created: bool  # False when an earlier request with the same idempotency key made it
    queue_calls: int


def new_job_id() -> str:
    return f"job_{uuid.uuid4().hex}"


class JobService:
    def __init__(
        self,
        store: JobStore,
        queue: WorkQueue,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = new_job_id,
    ) -> None:
        self.store = store
        self.queue = queue
        self.clock = clock
        self.new_id = new_id

    async def create_job(
        self, workspace_id: str, request: CreateJobRequest, idempotency_key: str | None = None
    ) -> Created:
        leads = request.all_leads()
        job = Job(
            workspace_id=workspace_id,
            job_id=self.new_id(),
            status=JobStatus.PENDING,
            created_at=self.clock(),
            options=JobOptions(
                priority=request.priority,
                max_attempts=request.max_attempts,
                skip_existing=request.skip_existing,
                webhook_url=request.webhook_url,
                tags=tuple(request.tags),
            ),
            counters=JobCounters(total=len(leads)),
            idempotency_key=idempotency_key,
        )
        width = max(6, len(str(len(leads))))
        items = [
            Item(workspace_id=workspace_id, job_id=job.job_id, item_id=f"{i:0{width}d}", lead=lead)
            for i, lead in enumerate(leads)
        ]
        try:
            stored = await self.store.create_job(job, items)
        except IdempotencyConflict as conflict:
            return Created(conflict.job, created=False, queue_calls=0)
        calls = await self.queue.send([WorkMessage(workspace_id, job.job_id, item.item_id) for item in items])
        return Created(stored, created=True, queue_calls=calls)

    async def get_job(self, workspace_id: str, job_id: str) -> Job | None:
        return await self.store.get_job(workspace_id, job_id)

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
        return await self.store.list_items(workspace_id, job_id, status=status, limit=limit, cursor=cursor)

    async def cancel_job(self, workspace_id: str, job_id: str) -> Job | None:
        """Stops the job's remaining items (the processor skips them); finished items keep their results."""
        return await self.store.cancel_job(workspace_id, job_id, self.clock())

    async def retry_job(self, workspace_id: str, job_id: str) -> list[Item]:
        """Failed and dead-lettered items go back to the queue with fresh attempts."""
        items = await self.store.requeue_items(workspace_id, job_id, RETRYABLE, self.clock())
        await self.queue.send([WorkMessage(workspace_id, job_id, item.item_id) for item in items])
        return items

    async def redrive(self, max_messages: int = 1000) -> int:
        """Dead-lettered messages back to the queue, and their items back to queued; returns the count."""
        moved = await self.queue.redrive(max_messages)
        by_job: dict[tuple[str, str], set[str]] = defaultdict(set)
        for message in moved:
            by_job[(message.workspace_id, message.job_id)].add(message.item_id)
        for (workspace_id, job_id), moved_ids in by_job.items():
            requeued = await self.store.requeue_items(
                workspace_id, job_id, frozenset({ItemStatus.DEAD}), self.clock()
            )
            # Dead items of these jobs whose messages were not in the DLQ batch still need a message.
            missing = [
                WorkMessage(workspace_id, job_id, i.item_id) for i in requeued if i.item_id not in moved_ids
            ]
            if missing:
                await self.queue.send(missing)
        return len(moved)

    async def metrics(self, workspace_id: str) -> Metrics:
        now = self.clock()
        depth = await self.queue.depth()
        last_hour = await self.store.activity(workspace_id, since=now - timedelta(hours=1), now=now)
        return Metrics(depth=depth, last_hour=last_hour)
