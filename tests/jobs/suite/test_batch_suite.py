"""The processor fed batches by an event source mapping (`jobs.processor_batch`) on every backend: the same
exactly-once rules as the schedule's drain. A crash mid-batch leaves its message unfinished (reported as a
failure, so it comes back) and the item runs once more, never twice to completion; a batch and a drain over
the same messages at once (the two triggers overlapping during a switch) run each item once."""

from __future__ import annotations

import asyncio

from leadenrich.jobs.models import JobStatus
from leadenrich.jobs.processor_batch import process_batch
from tests.jobs.suite.test_control_suite import assert_each_item_once
from tests.support.backends import WS, Backend

VISIBILITY = 5


async def test_a_crash_mid_batch_is_a_failure_that_comes_back_and_runs_once_more(backend: Backend) -> None:
    created = await backend.service(queue_window=0).create_job(WS, backend.leads(6))
    job_id, total = created.job.job_id, created.job.counters.total
    batch = await backend.queue.receive(10, visibility_timeout=VISIBILITY)
    assert len(batch) == total
    crashed = next(r for r in batch if r.message.item_id == "000000")

    with backend.crash_outcome_of(job_id, "000000") as crash:
        outcome = await process_batch(backend.processor(visibility_timeout=VISIBILITY), batch, 20.0)
    assert crash.fired and outcome.report.errors == 1
    assert outcome.unfinished == [crashed.message_id]  # the rest finished: Lambda may delete them

    for _ in range(4):  # the message and the item's lease run out; the poller delivers it again
        await backend.elapse(VISIBILITY + 0.5)
        again = await backend.queue.receive(10, visibility_timeout=VISIBILITY)
        if again:
            assert [r.message.item_id for r in again] == ["000000"]
            assert (await process_batch(backend.processor(), again, 20.0)).unfinished == []
            break
    job = await backend.job(job_id)
    assert job.status is JobStatus.COMPLETED
    await assert_each_item_once(backend, job_id)
    items = await backend.items(job_id)
    assert sum(i.attempts for i in items) == total + 1  # only the crashed item ran twice


async def test_a_batch_and_a_drain_over_the_same_messages_run_each_item_once(backend: Backend) -> None:
    created = await backend.service(queue_window=0).create_job(WS, backend.leads(8))
    job_id = created.job.job_id
    batch = await backend.queue.receive(10, visibility_timeout=1)  # visible again at once, for the drain
    await backend.elapse(1.5)

    outcome, report = await asyncio.gather(
        process_batch(backend.processor(), batch, 20.0),
        backend.processor(max_items=20).drain(),
    )
    for _ in range(4):
        if (await backend.job(job_id)).status is JobStatus.COMPLETED:
            break
        await backend.elapse(VISIBILITY + 0.5)
        await backend.processor(max_items=20).drain()
    await assert_each_item_once(backend, job_id)
    assert outcome.report.finished + report.finished <= created.job.counters.total
    items = await backend.items(job_id)
    assert all(i.attempts == 1 for i in items)  # nobody ran an item twice
