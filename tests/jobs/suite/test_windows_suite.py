"""Queue windows (leadenrich.jobs.window) on every backend: a job has only a window of messages in the
queue, the processor sends the rest as items finish, and nothing is lost, sent for nothing or held back.
"""

from __future__ import annotations

import asyncio

import pytest

from enrich_tools.simulator import SHOWCASE_DOMAINS
from leadenrich.jobs.models import ItemStatus, JobStatus
from leadenrich.jobs.requests import CreateJobRequest
from tests.support.backends import WS, Backend


async def test_a_job_larger_than_its_window_is_fed_while_it_runs_and_completes_once(backend: Backend) -> None:
    created = await backend.service(queue_window=10).create_job(WS, backend.leads(45))
    total = created.job.counters.total
    assert total > 30 and created.job.options.queue_window == 10
    assert created.queue_calls == 1 and (await backend.queue.depth()).visible == 10  # the first window only
    stored = await backend.job(created.job.job_id)
    assert stored.options.queue_window == 10  # kept by the store (Supabase: 0004's columns)

    report = await backend.processor(max_items=100).drain()

    job = await backend.job(created.job.job_id)
    assert job.status is JobStatus.COMPLETED
    assert report.finished == report.received == job.counters.processed == total  # each sent once
    assert report.duplicates == 0
    items = await backend.items(job.job_id)
    assert all(i.status.terminal and i.sent_next for i in items)
    depth = await backend.queue.depth()
    assert (depth.visible, depth.in_flight, depth.delayed, depth.dead_letters) == (0, 0, 0, 0)


async def test_a_job_larger_than_its_window_is_fed_by_two_processors_and_completes_once(
    backend: Backend,
) -> None:
    created = await backend.service(queue_window=10).create_job(WS, backend.leads(40))
    total = created.job.counters.total
    assert total > 20 and (await backend.queue.depth()).visible == 10

    # Each processor receives again after one of its items finished, so what an item sent is taken by the
    # same drain: none is left behind.
    reports = await asyncio.gather(*(backend.processor(max_items=100).drain() for _ in range(2)))

    job = await backend.job(created.job.job_id)
    assert job.status is JobStatus.COMPLETED and job.counters.processed == total
    assert sum(r.finished for r in reports) == total
    items = await backend.items(job.job_id)
    assert all(i.status.terminal and i.sent_next for i in items)
    depth = await backend.queue.depth()
    assert (depth.visible, depth.in_flight, depth.dead_letters) == (0, 0, 0)


@pytest.mark.parametrize("window", [10, 0])
async def test_a_small_job_after_a_large_one_is_not_stuck_behind_it(backend: Backend, window: int) -> None:
    """Issue 5's fairness: another workspace's 5-lead job created after an 80-lead job (twice what the two
    drains take). Without a window (the control) every message of the large job is ahead of the small
    job's in SQS; the SQLite queue serves workspaces round-robin, so there the small job is done early
    either way."""
    service = backend.service(queue_window=window)
    big = await service.create_job("ws-big", backend.leads(80))
    small = await service.create_job("ws-small", CreateJobRequest(domains=list(SHOWCASE_DOMAINS[:5])))
    assert big.job.counters.total >= 60  # well over the 40 items the two drains take

    for _ in range(2):
        await backend.processor(max_items=20, concurrency=5).drain()

    job = await backend.job(small.job.job_id, "ws-small")
    small_done_within_two_drains = window > 0 or backend.fair_queue
    assert (job.status is JobStatus.COMPLETED) is small_done_within_two_drains
    big_job = await backend.job(big.job.job_id, "ws-big")
    assert big_job.counters.processed < big_job.counters.total  # still going


@pytest.mark.parametrize("max_attempts", [1, 3])
async def test_items_that_fail_still_send_their_successors(backend: Backend, max_attempts: int) -> None:
    """A leader whose attempt fails sends its successors with the deferral (3 attempts) or the dead
    letter (1): the window moves on while it waits or lies in the DLQ."""
    backend.sim.configure(share_5xx=1.0)
    request = backend.leads(25).model_copy(update={"max_attempts": max_attempts})
    created = await backend.service(queue_window=10).create_job(WS, request)
    total = created.job.counters.total

    report = await backend.processor(max_items=100).drain()

    assert report.received == total  # every item reached the queue
    if max_attempts == 1:
        assert report.dead == total and (await backend.queue.depth()).dead_letters == total
    else:
        assert report.deferred == total
        items = await backend.items(created.job.job_id)
        assert all(i.status is ItemStatus.DEFERRED and i.attempts == 1 for i in items)


async def test_cancelling_a_windowed_job_skips_even_the_items_never_sent(backend: Backend) -> None:
    service = backend.service(queue_window=10)
    created = await service.create_job(WS, backend.leads(35))
    await service.cancel_job(WS, created.job.job_id)

    report = await backend.processor(max_items=100).drain()

    items = await backend.items(created.job.job_id)
    assert report.skipped == len(items) and all(i.status is ItemStatus.SKIPPED for i in items)
    job = await backend.job(created.job.job_id)
    assert job.counters.processed == job.counters.total
    assert (await backend.queue.depth()).visible == 0
