"""Job control on every backend (leadenrich.jobs.control, control_service): a paused job's items wait and
resume where they stopped, a scheduled job waits in the due index until its time, a paused job can be
cancelled, a new priority band moves the waiting items, and a bulk action answers per job.

Every test ends by checking that nothing was lost or run twice: each item is terminal exactly once and the
job's counters add up to its total.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadenrich.jobs.control_requests import BulkJobsRequest, UpdateJobRequest
from leadenrich.jobs.errors import JobStateConflict
from leadenrich.jobs.models import PAUSED_BY_CALLER, Band, ItemStatus, JobStatus
from leadenrich.jobs.service import JobService
from tests.support.backends import WS, Backend

OTHER_WS = "other-workspace"


async def drain_until_done(backend: Backend, job_id: str, runs: int = 8) -> None:
    for _ in range(runs):
        if (await backend.job(job_id)).status in (JobStatus.COMPLETED, JobStatus.CANCELLED):
            job = await backend.job(job_id)
            if job.counters.processed == job.counters.total:
                return
        await backend.processor(max_items=40, concurrency=8).drain()
    raise AssertionError(f"job {job_id} not done after {runs} runs: {await backend.job(job_id)}")


async def assert_each_item_once(backend: Backend, job_id: str) -> None:
    job = await backend.job(job_id)
    items = await backend.items(job_id)
    assert all(i.status.terminal for i in items), [i.status for i in items if not i.status.terminal]
    assert job.counters.processed == job.counters.total == len(items)


async def test_a_paused_job_starts_nothing_and_resumes_where_it_stopped(backend: Backend) -> None:
    service = backend.service(queue_window=10)
    created = await service.create_job(WS, backend.leads(30))
    job_id = created.job.job_id
    first = await backend.processor(max_items=5, concurrency=5).drain()
    assert first.finished + first.deferred + first.released > 0

    paused = await service.pause_job(WS, job_id)
    assert (paused.status, paused.paused_reason) == (JobStatus.PAUSED, PAUSED_BY_CALLER)
    assert (await service.pause_job(WS, job_id)).status is JobStatus.PAUSED  # twice: the same answer
    before = {i.item_id: i.status for i in await backend.items(job_id)}

    held = await backend.processor(max_items=40).drain()
    assert held.held > 0 and held.finished == 0  # its messages were taken and dropped, nothing ran
    assert {i.item_id: i.status for i in await backend.items(job_id)} == before
    assert (await backend.queue.depth()).visible == 0

    resumed = await service.resume_job(WS, job_id)
    assert resumed.status is JobStatus.RUNNING and resumed.paused_reason is None
    await drain_until_done(backend, job_id)
    assert (await backend.job(job_id)).status is JobStatus.COMPLETED
    await assert_each_item_once(backend, job_id)


async def test_a_scheduled_job_waits_for_its_time_then_runs(backend: Backend) -> None:
    service = backend.service()
    request = backend.leads(4).model_copy(update={"run_at": backend.now() + timedelta(hours=2)})
    created = await service.create_job(WS, request)
    job_id = created.job.job_id
    assert created.queue_calls == 0 and created.job.due_at is not None
    assert (await backend.queue.depth()).visible == 0

    early = await backend.processor().drain()
    assert (early.released_jobs, early.finished) == (0, 0)
    assert (await backend.job(job_id)).status is JobStatus.PENDING

    # Moved to a moment that has passed: the next run releases it.
    moved = await service.update_job(
        WS, job_id, UpdateJobRequest(run_at=backend.now() - timedelta(seconds=1))
    )
    assert moved.due_at is not None
    report = await backend.processor().drain()
    assert report.released_jobs == 1
    await drain_until_done(backend, job_id)
    await assert_each_item_once(backend, job_id)
    assert (await backend.job(job_id)).due_at is None

    later = UpdateJobRequest(run_at=backend.now() + timedelta(hours=1))
    with pytest.raises(JobStateConflict) as refused:
        await service.update_job(WS, job_id, later)
    assert refused.value.field == "run_at"


async def test_cancelling_a_paused_job_skips_its_waiting_items(backend: Backend) -> None:
    service = backend.service(queue_window=10)
    job_id = (await service.create_job(WS, backend.leads(25))).job.job_id
    await backend.processor(max_items=3, concurrency=3).drain()
    await service.pause_job(WS, job_id)
    await backend.processor().drain()  # drops the paused job's messages

    cancelled = await service.cancel_job(WS, job_id)
    assert cancelled.status is JobStatus.CANCELLED
    await drain_until_done(backend, job_id)
    items = await backend.items(job_id)
    assert any(i.status is ItemStatus.SKIPPED for i in items)
    await assert_each_item_once(backend, job_id)


async def test_a_new_priority_band_moves_the_waiting_items(backend: Backend) -> None:
    service = backend.service(queue_window=10)
    job_id = (await service.create_job(WS, backend.leads(12).model_copy(update={"priority": 5}))).job.job_id
    updated = await service.update_job(WS, job_id, UpdateJobRequest(priority=1))
    assert updated.options.priority == 1
    taken = []
    while batch := await backend.queue.receive(10, visibility_timeout=2):
        taken += batch
    high = [r for r in taken if r.band is Band.HIGH]
    assert len(high) == 10 and all(r.message.priority == 1 for r in high)
    await backend.elapse(2.5)
    await drain_until_done(backend, job_id)
    await assert_each_item_once(backend, job_id)


async def test_a_bulk_action_answers_per_job_and_never_touches_another_workspace(backend: Backend) -> None:
    service: JobService = backend.service()
    done = (await service.create_job(WS, backend.leads(2))).job.job_id
    await drain_until_done(backend, done)
    mine = (await service.create_job(WS, backend.leads(3))).job.job_id
    theirs = (await service.create_job(OTHER_WS, backend.leads(3))).job.job_id

    results = await service.bulk(WS, BulkJobsRequest(job_ids=[mine, theirs, done, "nope"], action="pause"))
    assert [(r.job_id, r.outcome) for r in results] == [
        (mine, "done"),
        (theirs, "not_found"),
        (done, "conflict"),
        ("nope", "not_found"),
    ]
    assert (await backend.job(theirs, OTHER_WS)).status is JobStatus.PENDING
    assert results[2].job is not None and results[2].job.status is JobStatus.COMPLETED

    resumed = await service.bulk(WS, BulkJobsRequest(job_ids=[mine], action="resume"))
    assert resumed[0].outcome == "done" and resumed[0].job is not None
    await drain_until_done(backend, mine)
    await assert_each_item_once(backend, mine)
