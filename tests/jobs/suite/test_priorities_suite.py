"""Priorities (leadenrich.jobs.priorities) on every backend: a higher-priority job's items are processed
first, a lower band keeps a share under a constant high-priority stream, and every path that sends a job's
items (creation, window successors, retry, redrive, a webhook's resume) sends them in the job's band.

Both jobs are one workspace's, so the order comes from priorities alone: workspace fairness (SQS fair
queues, the SQLite queue's rotation) is what equal priorities keep (`test_windows_suite.py`).
"""

from __future__ import annotations

import pytest

from enrich_tools.simulator import SHOWCASE_DOMAINS
from leadenrich.jobs.models import Band, ItemStatus, JobStatus, Received
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.window import DEFAULT_WINDOW
from leadenrich.webhooks.inbound import EventRouter, InboundEvent
from tests.support.backends import WS, Backend


def urgent(n: int = 5, priority: int = 1) -> CreateJobRequest:
    return CreateJobRequest(domains=list(SHOWCASE_DOMAINS[:n]), priority=priority)


async def everything_queued(backend: Backend) -> list[Received]:
    """Receive what the queue holds (and hide it): what was sent, with the band that delivered it."""
    taken: list[Received] = []
    while batch := await backend.queue.receive(10, visibility_timeout=300):
        taken += batch
    return taken


def in_band(received: list[Received], band: Band, priority: int) -> bool:
    return bool(received) and all(r.band is band and r.message.priority == priority for r in received)


@pytest.mark.parametrize("window", [DEFAULT_WINDOW, 0])
@pytest.mark.parametrize(("large", "small"), [(5, 1), (5, 5)])
async def test_a_priority_1_job_created_after_a_large_priority_5_job_is_processed_in_the_next_run(
    backend: Backend, window: int, large: int, small: int
) -> None:
    """The large job's first window (or, without windows, all of it) is in the queue before the small job
    exists. At priority 1 the small job is done in the next run; at equal priorities (the control) it
    waits behind the large job's messages, as it did before priorities."""
    service = backend.service(queue_window=window)
    big = await service.create_job(WS, backend.leads(150).model_copy(update={"priority": large}))
    small_job = await service.create_job(WS, urgent(priority=small))

    report = await backend.processor(max_items=20, concurrency=5).drain()

    done = await backend.job(small_job.job.job_id)
    assert (done.status is JobStatus.COMPLETED) is (small < large)
    big_job = await backend.job(big.job.job_id)
    assert report.finished == 20 and big_job.counters.processed == 20 - done.counters.processed


async def test_a_low_priority_job_keeps_a_share_of_each_run_under_a_constant_high_priority_stream(
    backend: Backend,
) -> None:
    """Every tenth item a processor asks for is offered to a lower band first: a run of 20 takes 2."""
    service = backend.service(queue_window=0)  # the high band never runs dry in these runs
    low = await service.create_job(WS, backend.leads(12).model_copy(update={"priority": 5}))
    high = await service.create_job(WS, backend.leads(80).model_copy(update={"priority": 1}))

    for run in (1, 2):
        await backend.processor(max_items=20, concurrency=4).drain()
        assert (await backend.job(low.job.job_id)).counters.processed == 2 * run
        assert (await backend.job(high.job.job_id)).counters.processed == 18 * run


async def test_window_successors_are_sent_in_their_jobs_band(backend: Backend) -> None:
    created = await backend.service(queue_window=10).create_job(
        WS, backend.leads(25).model_copy(update={"priority": 2})
    )

    await backend.processor(max_items=10).drain()  # the first window: item 0 sends items 10-19

    sent = await everything_queued(backend)
    assert sorted(r.message.item_id for r in sent) == [f"{i:06d}" for i in range(10, 20)]
    assert in_band(sent, Band.HIGH, 2) and all(r.message.job_id == created.job.job_id for r in sent)


async def dead_job(backend: Backend, priority: int) -> str:
    """A 3-item job whose items all died (one attempt each, every provider call a 5xx)."""
    backend.sim.configure(share_5xx=1.0)
    created = await backend.service().create_job(
        WS, urgent(3, priority).model_copy(update={"max_attempts": 1})
    )
    await backend.processor(max_items=100).drain()
    assert all(i.status is ItemStatus.DEAD for i in await backend.items(created.job.job_id))
    backend.sim.configure(share_5xx=0.0)
    return created.job.job_id


async def test_retried_items_go_back_to_their_jobs_band(backend: Backend) -> None:
    job_id = await dead_job(backend, priority=1)

    await backend.service().retry_job(WS, job_id)

    assert in_band(await everything_queued(backend), Band.HIGH, 1)


async def test_redriven_items_go_back_to_their_jobs_band(backend: Backend) -> None:
    """A redrive brings one dead letter back from the band's DLQ and sends the job's other dead items
    (their letters stay behind: `max_messages=1`) a fresh message: all three in the low band."""
    job_id = await dead_job(backend, priority=4)

    assert await backend.service().redrive(WS, max_messages=1) == 1

    queued = await everything_queued(backend)
    assert sorted(r.message.item_id for r in queued) == ["000000", "000001", "000002"]
    assert in_band(queued, Band.LOW, 4) and {r.message.job_id for r in queued} == {job_id}
    assert (await backend.queue.depth()).dead_letters == 2


async def test_a_webhook_resuming_an_item_sends_it_in_its_jobs_band(backend: Backend) -> None:
    created = await backend.service().create_job(WS, urgent(1, priority=5))
    [first] = await everything_queued(backend)  # as if it were waiting out a deferral

    routed = await EventRouter(backend.store, backend.queue).route(
        InboundEvent("evt_1", "verification.completed", WS, created.job.job_id, first.message.item_id)
    )

    assert routed == "resumed"
    assert in_band(await everything_queued(backend), Band.LOW, 5)
