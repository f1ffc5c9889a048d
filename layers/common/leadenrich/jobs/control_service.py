"""The job service's operations on existing jobs: cancel, retry, pause, resume, update, bulk.

Every operation names its job within the caller's workspace: another workspace's job is `JobNotFound`, and a
status that does not allow the change is `JobStateConflict` (409) naming what could not change. Events a
job asked for (`job.cancelled`, `job.paused`) are handed to an outbox (`JobEventOutbox`) and sent by the
processor's callback share, so no API request waits on a receiver. Which waiting items get a message again
on resume, on cancelling a paused job and on a band change is `leadenrich.jobs.control`.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from leadenrich.jobs.control import resend_waiting
from leadenrich.jobs.control_requests import BulkAction, BulkJobsRequest, UpdateJobRequest
from leadenrich.jobs.creation import JobCreation
from leadenrich.jobs.errors import JobNotFound, JobStateConflict
from leadenrich.jobs.models import (
    JOB_CANCELLED,
    JOB_PAUSED,
    PAUSED_BY_CALLER,
    Band,
    Item,
    ItemStatus,
    Job,
    JobStatus,
    WebhookEvent,
    WorkMessage,
)
from leadenrich.jobs.ports import JobEventOutbox

RETRYABLE = frozenset({ItemStatus.FAILED, ItemStatus.DEAD})
ACTIVE = frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.PAUSED})


@dataclasses.dataclass(frozen=True)
class BulkResult:
    job_id: str
    outcome: Literal["done", "not_found", "conflict"]
    job: Job | None = None
    message: str | None = None


class JobControl(JobCreation):
    """Needs `events` set by the service (None: no job.cancelled/job.paused events are sent)."""

    events: JobEventOutbox | None = None

    async def _job(self, workspace_id: str, job_id: str) -> Job:
        job = await self.store.get_job(workspace_id, job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def _tell(self, job: Job, event: WebhookEvent) -> None:
        if self.events is not None and job.options.wants(event):
            await self.events.enqueue(job, event)

    async def cancel_job(self, workspace_id: str, job_id: str) -> Job:
        """Stops the job's remaining items (the processor skips them); finished items keep their results.
        A paused job's waiting items have no message any more: they are sent again, to be skipped."""
        before = await self._job(workspace_id, job_id)
        job = await self.store.cancel_job(workspace_id, job_id, self.clock())
        if job is None:
            raise JobNotFound(job_id)
        if before.status in ACTIVE and job.status is JobStatus.CANCELLED:
            if before.status is JobStatus.PAUSED or before.due_at is not None:
                await resend_waiting(self.store, self.queue, job, self.clock())
            await self._tell(job, JOB_CANCELLED)
        return job

    async def retry_job(self, workspace_id: str, job_id: str) -> list[Item]:
        """Failed and dead-lettered items go back to the queue (their job's band) with fresh attempts."""
        job = await self._job(workspace_id, job_id)
        items = await self.store.requeue_items(workspace_id, job_id, RETRYABLE, self.clock())
        await self.queue.send([WorkMessage.for_item(job, item.item_id) for item in items])
        return items

    async def pause_job(self, workspace_id: str, job_id: str) -> Job:
        """Its waiting items are not started (running ones finish); resume continues where it stopped."""
        paused = await self.store.pause_job(workspace_id, job_id, reason=PAUSED_BY_CALLER, now=self.clock())
        if paused is not None:
            await self._tell(paused, JOB_PAUSED)
            return paused
        job = await self._job(workspace_id, job_id)
        if job.status is JobStatus.PAUSED:
            return job  # paused already: the same answer as the first time
        raise JobStateConflict(
            "paused", f"the job is {job.status.value}: only a pending or running job pauses"
        )

    async def resume_job(self, workspace_id: str, job_id: str) -> Job:
        now = self.clock()
        resumed = await self.store.resume_job(workspace_id, job_id, now=now)
        if resumed is not None:
            if resumed.due_at is None:  # a scheduled job is released by the processor when due
                await resend_waiting(self.store, self.queue, resumed, now)
            return resumed
        job = await self._job(workspace_id, job_id)
        if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
            return job  # not paused: nothing to resume
        raise JobStateConflict("paused", f"the job is {job.status.value}: only a paused job resumes")

    async def update_job(self, workspace_id: str, job_id: str, request: UpdateJobRequest) -> Job:
        """The fields given change; `paused` pauses or resumes after the other changes are stored (so a
        raised cap and a resume can go in one request)."""
        job = await self._job(workspace_id, job_id)
        given = request.model_fields_set - {"paused"}
        if given:
            job = await self._update(job, request, given)
        if request.paused is True:
            job = await self.pause_job(workspace_id, job_id)
        elif request.paused is False:
            job = await self.resume_job(workspace_id, job_id)
        return job

    async def _update(self, job: Job, request: UpdateJobRequest, given: set[str]) -> Job:
        if job.status not in ACTIVE:
            raise JobStateConflict(min(given), f"the job is {job.status.value}: it can no longer change")
        now = self.clock()
        changes: dict[str, object] = {name: getattr(request, name) for name in given if name != "tags"}
        if "tags" in given:
            changes["tags"] = tuple(request.tags or ())
        due_at = job.due_at
        if "run_at" in given:
            if job.due_at is None and (job.started_at is not None or job.status is not JobStatus.PENDING):
                raise JobStateConflict("run_at", "the job has started: it can no longer be rescheduled")
            if job.due_at is None and job.options.run_at is None:
                raise JobStateConflict("run_at", "the job was queued at creation: only a scheduled job moves")
            run_at = request.run_at
            due_at = run_at if run_at is not None and run_at > now else now  # due now: the next run releases
        options = dataclasses.replace(job.options, **changes)  # type: ignore[arg-type]  # checked fields
        updated = await self.store.update_job(
            job.workspace_id,
            job.job_id,
            options=options,
            due_at=due_at,
            expected_due_at=job.due_at,
            now=now,
        )
        if updated is None:  # changed meanwhile (released, finished): say what it is now
            current = await self._job(job.workspace_id, job.job_id)
            raise JobStateConflict(
                min(given), f"the job changed meanwhile (now {current.status.value}); retry"
            )
        moved = Band.of(updated.options.priority) is not Band.of(job.options.priority)
        if moved and updated.status is not JobStatus.PAUSED and updated.due_at is None:
            # Its waiting messages are in the old band's queue: send them to the new one (the old ones
            # become harmless duplicates).
            await resend_waiting(self.store, self.queue, updated, now)
        return updated

    async def bulk(self, workspace_id: str, request: BulkJobsRequest) -> list[BulkResult]:
        """One result per job, in order; one job's refusal does not stop the others."""
        return [await self._one(workspace_id, job_id, request.action) for job_id in request.job_ids]

    async def _one(self, workspace_id: str, job_id: str, action: BulkAction) -> BulkResult:
        try:
            if action == "cancel":
                job = await self.cancel_job(workspace_id, job_id)
            elif action == "pause":
                job = await self.pause_job(workspace_id, job_id)
            elif action == "resume":
                job = await self.resume_job(workspace_id, job_id)
            else:
                await self.retry_job(workspace_id, job_id)
                job = await self._job(workspace_id, job_id)
        except JobNotFound:
            return BulkResult(job_id, "not_found")
        except JobStateConflict as conflict:
            return BulkResult(
                job_id, "conflict", await self.store.get_job(workspace_id, job_id), str(conflict)
            )
        return BulkResult(job_id, "done", job)


__all__ = ["ACTIVE", "RETRYABLE", "BulkResult", "JobControl", "JobEventOutbox"]
