"""The processor against the real adapters: DynamoDB and SQS on moto, providers on the simulator.

Given a job created through the job service, when processors drain the queue, then every item ends
exactly once, counters add up, completion is detected once, and the queue is left empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import boto3
import pytest

from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich.aws.dynamo_limiter import DynamoRateLimiter
from leadenrich.aws.dynamo_store import DynamoJobStore, create_table
from leadenrich.aws.sqs_queue import SqsWorkQueue, create_queues
from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.ratelimit import LIMITS, Limit, RateLimiter
from leadenrich.engine.waterfall import Enricher
from leadenrich.jobs.models import ItemStatus, Job, JobStatus, WorkMessage
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.retry import RetryPolicy
from leadenrich.jobs.service import IdempotencyKeyReused, JobService
from tests.simulator.conftest import TODAY, base_config

WS = "default"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@dataclass
class Stack:
    store: DynamoJobStore
    queue: SqsWorkQueue
    service: JobService
    sim: SimulatorServer
    dynamodb: Any

    def processor(self, limiter: RateLimiter | None = None, **settings: Any) -> Processor:
        enricher = Enricher(
            HunterClient("sim-hunter-key", base_url=self.sim.hunter_base_url),
            PerplexityClient("sim-pplx-key", base_url=self.sim.perplexity_base_url),
            ResultCache(InMemoryCache()),
            clock=lambda: datetime.combine(TODAY, time(12), UTC),
            limiter=limiter,
        )
        defaults: dict[str, Any] = {"budget_seconds": 20.0, "visibility_timeout": 30, "min_item_seconds": 2.0}
        return Processor(
            self.store, self.queue, enricher, ProcessorSettings(**(defaults | settings)), RetryPolicy()
        )


@pytest.fixture
async def stack(simulator: SimulatorServer, mocked_aws: None) -> AsyncIterator[Stack]:
    simulator.reset(base_config())
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    create_table(dynamodb, "leadenrich")
    queue_url, dlq_url = create_queues(sqs, "leadenrich-work", visibility_timeout=30)
    store = DynamoJobStore("leadenrich", dynamodb, serialize_calls=True)  # moto: not thread-safe
    queue = SqsWorkQueue(queue_url, dlq_url, sqs)
    yield Stack(store, queue, JobService(store, queue), simulator, dynamodb)
    await close_shared_http_client()


def leads(sim: SimulatorServer, n: int) -> CreateJobRequest:
    sample = sim.world.sample_leads(n, seed=21)
    return CreateJobRequest.model_validate(
        {"leads": [{"domain": s.domain, "company_name": s.company_name} for s in sample if "." in s.domain]}
    )


async def test_a_job_is_drained_completed_once_and_counted(stack: Stack) -> None:
    created = await stack.service.create_job(WS, leads(stack.sim, 24))
    total = created.job.counters.total
    assert created.queue_calls == -(-total // 10)  # ceil(n/10) SendMessageBatch calls

    report = await stack.processor(max_items=100).drain()

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert [j.job_id for j in report.completed_jobs] == [created.job.job_id]
    items = (await stack.store.list_items(WS, job.job_id, limit=1000)).items
    assert len(items) == total and all(i.status.terminal for i in items)
    assert job.counters.processed == total == report.finished
    assert job.counters.found == sum(i.status is ItemStatus.FOUND for i in items)
    assert job.counters.created_emails == sum(len(i.result["emails"]) for i in items if i.result)
    billed = stack.sim.ledger.snapshot()
    assert job.counters.api_calls_hunter == billed["hunter_calls"]
    depth = await stack.queue.depth()
    assert (depth.visible, depth.in_flight, depth.dead_letters) == (0, 0, 0)


async def test_the_same_message_delivered_twice_runs_and_counts_once(stack: Stack) -> None:
    created = await stack.service.create_job(WS, CreateJobRequest(domains=[SHOWCASE_DOMAINS[0]]))
    await stack.queue.send([WorkMessage(WS, created.job.job_id, "000000")])  # a duplicate delivery

    report = await stack.processor().drain()

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.counters.processed == 1 and report.finished == 1
    assert report.duplicates == 1
    assert stack.sim.ledger.snapshot()["calls"]["hunter.domain_search"] == 1


async def test_two_processors_at_once_never_run_an_item_twice(stack: Stack) -> None:
    created = await stack.service.create_job(WS, leads(stack.sim, 30))
    first, second = stack.processor(max_items=100), stack.processor(max_items=100)

    reports = await asyncio.gather(first.drain(), second.drain())

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert sum(r.finished for r in reports) == job.counters.total == job.counters.processed
    assert sum(len(r.completed_jobs) for r in reports) == 1


async def test_the_budget_holds_with_slow_providers_and_unfinished_work_goes_back_free(stack: Stack) -> None:
    stack.sim.configure(time_scale=1.0, latency_domain_search=(4.0, 4.0), latency_perplexity=(4.0, 4.0))
    created = await stack.service.create_job(WS, leads(stack.sim, 12))

    report = await stack.processor(
        budget_seconds=6.0, margin_seconds=1.0, min_item_seconds=1.0, concurrency=4
    ).drain()

    assert report.seconds < 6.0 + 1.5  # the budget plus the time to acknowledge
    items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
    handed_back = [i for i in items if i.status is ItemStatus.DEFERRED]
    assert report.released == len(handed_back) > 0
    assert all(i.attempts == 0 for i in handed_back)  # no attempt charged
    assert all(i.status in (ItemStatus.QUEUED, ItemStatus.DEFERRED) or i.status.terminal for i in items)


async def test_a_rate_bound_drain_hands_work_back_once_and_stops_receiving(stack: Stack) -> None:
    # One Domain Search every 4 s: most items cannot get a slot before the 6 s budget ends. Before the
    # fix they were released, received again at once and released again, until SQS's redrive policy
    # (which counts receives) moved them to the DLQ with their items still "deferred".
    limits = dict(LIMITS) | {"hunter.domain_search": Limit(per_second=1, per_minute=15)}
    limiter = DynamoRateLimiter("leadenrich", stack.dynamodb, limits, serialize_calls=True)
    created = await stack.service.create_job(WS, leads(stack.sim, 12))
    total = created.job.counters.total

    report = await stack.processor(
        limiter, budget_seconds=6.0, margin_seconds=1.0, min_item_seconds=1.0, concurrency=4, max_items=100
    ).drain()

    assert report.released > 0
    assert report.received == report.finished + report.released + report.deferred  # each received once
    assert report.received <= 4 + report.finished  # no new messages once one had to be handed back
    depth = await stack.queue.depth()
    assert depth.dead_letters == 0
    assert depth.visible + depth.delayed == total - report.received  # never received, still waiting
    assert depth.in_flight == report.released  # hidden until this invocation is over


async def test_exhausted_attempts_land_in_the_dlq_and_redrive_brings_them_back(stack: Stack) -> None:
    stack.sim.configure(share_5xx=1.0)
    created = await stack.service.create_job(
        WS, CreateJobRequest(domains=[SHOWCASE_DOMAINS[0], SHOWCASE_DOMAINS[2]], max_attempts=1)
    )

    report = await stack.processor().drain()

    assert report.dead == 2
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.counters.failed == 2
    items = (await stack.store.list_items(WS, job.job_id)).items
    assert all(i.status is ItemStatus.DEAD and i.reason and "attempts exhausted" in i.reason for i in items)
    assert (await stack.queue.depth()).dead_letters == 2

    stack.sim.configure(share_5xx=0.0)
    assert await stack.service.redrive(WS) == 2
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.RUNNING and job.counters.failed == 0
    await stack.processor().drain()
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.counters.found == 2


async def test_cancelling_mid_job_skips_the_rest_and_keeps_finished_results(stack: Stack) -> None:
    created = await stack.service.create_job(WS, leads(stack.sim, 20))
    await stack.processor(max_items=5, concurrency=5).drain()
    cancelled = await stack.service.cancel_job(WS, created.job.job_id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED

    report = await stack.processor(max_items=100).drain()

    items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
    finished = [i for i in items if i.status not in (ItemStatus.SKIPPED,)]
    assert len(finished) == 5 and all(i.result for i in finished)
    assert report.skipped == len(items) - 5 and report.finished == 0
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.CANCELLED and job.counters.processed == len(items)
    assert (await stack.queue.depth()).visible == 0


async def test_an_idempotency_key_returns_the_same_job(stack: Stack) -> None:
    request = CreateJobRequest(domains=["acme-robotics.com", "globex-analytics.io"])
    first = await stack.service.create_job(WS, request, idempotency_key="k-1")
    again = await stack.service.create_job(WS, request, idempotency_key="k-1")
    assert (again.job.job_id, again.created, again.queue_calls) == (first.job.job_id, False, 0)
    assert (await stack.queue.depth()).visible == 2


async def test_an_idempotency_key_reused_with_another_body_is_refused_and_enqueues_nothing(
    stack: Stack,
) -> None:
    first = await stack.service.create_job(WS, CreateJobRequest(domains=["acme-robotics.com"]), "k-2")
    spelt_otherwise = CreateJobRequest.model_validate({"domains": ["acme-robotics.com"], "priority": 3})
    again = await stack.service.create_job(WS, spelt_otherwise, "k-2")  # the same request, defaults spelt
    assert (again.job.job_id, again.created) == (first.job.job_id, False)

    other = CreateJobRequest(domains=["acme-robotics.com", "globex-analytics.io"])
    with pytest.raises(IdempotencyKeyReused) as refused:
        await stack.service.create_job(WS, other, "k-2")
    assert refused.value.field == "idempotency-key" and first.job.job_id in refused.value.message
    assert (await stack.queue.depth()).visible == 1  # only the first job's item


async def test_two_processors_sharing_the_limiter_get_no_403_or_429_at_published_limits(stack: Stack) -> None:
    stack.sim.configure(  # the providers' published limits, as the simulator enforces them by default
        domain_search_rps=15,
        domain_search_rpm=500,
        email_finder_rps=15,
        email_finder_rpm=500,
        email_verifier_rps=10,
        email_verifier_rpm=300,
        perplexity_qps=1.0,
        perplexity_rpm=50,
    )
    await stack.service.create_job(WS, leads(stack.sim, 40))
    limiter = DynamoRateLimiter("leadenrich", stack.dynamodb, serialize_calls=True)

    reports = await asyncio.gather(
        stack.processor(limiter, max_items=100, concurrency=10).drain(),
        stack.processor(limiter, max_items=100, concurrency=10).drain(),
    )

    statuses = stack.sim.ledger.snapshot()["statuses"]
    refused = {endpoint: codes for endpoint, codes in statuses.items() if {"403", "429"} & set(codes)}
    assert refused == {}, refused
    assert sum(r.finished for r in reports) > 0


async def test_a_deferred_attempts_calls_are_on_the_jobs_bill(stack: Stack) -> None:
    stack.sim.configure(share_5xx=1.0)
    created = await stack.service.create_job(WS, CreateJobRequest(domains=[SHOWCASE_DOMAINS[0]]))

    report = await stack.processor().drain()

    assert report.deferred == 1
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.counters.processed == 0
    assert job.counters.api_calls_hunter == stack.sim.ledger.snapshot()["hunter_calls"] == 1


async def test_a_throttled_item_is_handed_back_without_an_attempt_and_nothing_is_lost(stack: Stack) -> None:
    """Given a provider that throttles (Hunter's 403 rate limit, two searches a second) and no limiter of
    ours, when the job is drained to the end, then throttles happened, yet no item was charged an attempt
    for one (each ends with the one attempt that worked), none died, and each counts once."""
    stack.sim.configure(domain_search_rps=2, domain_search_rpm=120, rate_limit_mode="403")
    created = await stack.service.create_job(WS, leads(stack.sim, 8))
    total = created.job.counters.total

    until = asyncio.get_running_loop().time() + 90
    job: Job | None = None
    while asyncio.get_running_loop().time() < until:
        await stack.processor(
            budget_seconds=6.0, margin_seconds=1.0, min_item_seconds=1.0, concurrency=4
        ).drain()
        job = await stack.store.get_job(WS, created.job.job_id)
        assert job is not None
        if job.status is JobStatus.COMPLETED:
            break
        await asyncio.sleep(0.5)

    throttled = stack.sim.ledger.snapshot()["statuses"]["hunter.domain_search"].get("403", 0)
    assert throttled > 0  # the provider did say no
    items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
    assert job is not None and job.status is JobStatus.COMPLETED, [
        (i.status, i.attempts, i.reason) for i in items
    ]
    assert job.counters.processed == total == len(items)
    assert all(i.status is not ItemStatus.DEAD and i.attempts == 1 for i in items), [
        (i.status, i.attempts, i.reason) for i in items
    ]
    assert (await stack.queue.depth()).dead_letters == 0


async def test_on_the_last_attempt_addresses_the_verifier_could_not_settle_end_risky(stack: Stack) -> None:
    """Given a mail server that never answers (every verification `unknown`) and one attempt per item, when
    the job drains, then items that had candidate addresses end `risky` with them graded `unknown` (not
    dead, not `found`), and every `found` item holds an active address."""
    stack.sim.configure(share_unknown=1.0)
    request = leads(stack.sim, 20).model_copy(update={"max_attempts": 1})
    created = await stack.service.create_job(WS, request)

    await stack.processor(max_items=100).drain()

    items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
    risky = [i for i in items if i.status is ItemStatus.RISKY]
    assert risky, [(i.status, i.reason) for i in items]
    for item in risky:
        assert item.result is not None and item.result["status"] == "risky"
        emails = item.result["emails"]
        assert emails and all(e["status"] == "inactive" for e in emails)
        assert {e["deliverability"] for e in emails} <= {"unknown", "catch_all", "high_probability"}
    for item in items:
        if item.status is ItemStatus.FOUND:
            assert item.result is not None
            assert any(e["status"] == "active" for e in item.result["emails"])
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.counters.found == sum(i.status is ItemStatus.FOUND for i in items)


# --- queue windows (leadenrich.jobs.window): a job has only a window of messages in the queue ------------


def windowed(stack: Stack, window: int) -> JobService:
    return JobService(stack.store, stack.queue, queue_window=window)


async def test_a_job_larger_than_its_window_is_fed_while_it_runs_and_completes_once(stack: Stack) -> None:
    created = await windowed(stack, 10).create_job(WS, leads(stack.sim, 45))
    total = created.job.counters.total
    assert total > 30 and created.job.options.queue_window == 10
    assert created.queue_calls == 1 and (await stack.queue.depth()).visible == 10  # the first window only

    report = await stack.processor(max_items=100).drain()

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert report.finished == report.received == job.counters.processed == total  # each sent once
    assert report.duplicates == 0
    items = (await stack.store.list_items(WS, job.job_id, limit=100)).items
    assert all(i.status.terminal and i.sent_next for i in items)
    depth = await stack.queue.depth()
    assert (depth.visible, depth.in_flight, depth.delayed, depth.dead_letters) == (0, 0, 0, 0)


@pytest.mark.parametrize(("window", "small_done_within_two_drains"), [(10, True), (0, False)])
async def test_a_small_job_after_a_large_one_is_not_stuck_behind_it(
    stack: Stack, window: int, small_done_within_two_drains: bool
) -> None:
    """Issue 5's fairness: another workspace's 5-lead job created after a 150-lead job. Without a window
    (the control) every message of the large job is ahead of the small job's in the queue."""
    service = windowed(stack, window)
    big = await service.create_job("ws-big", leads(stack.sim, 150))
    small = await service.create_job("ws-small", CreateJobRequest(domains=list(SHOWCASE_DOMAINS[:5])))

    for _ in range(2):
        await stack.processor(max_items=20, concurrency=5).drain()

    job = await stack.store.get_job("ws-small", small.job.job_id)
    assert job is not None and (job.status is JobStatus.COMPLETED) is small_done_within_two_drains
    big_job = await stack.store.get_job("ws-big", big.job.job_id)
    assert big_job is not None and big_job.counters.processed < big_job.counters.total  # still going


@pytest.mark.parametrize("max_attempts", [1, 3])
async def test_items_that_fail_still_send_their_successors(stack: Stack, max_attempts: int) -> None:
    """A leader whose attempt fails sends its successors with the deferral (3 attempts) or the dead
    letter (1): the window moves on while it waits or lies in the DLQ."""
    stack.sim.configure(share_5xx=1.0)
    request = leads(stack.sim, 25).model_copy(update={"max_attempts": max_attempts})
    created = await windowed(stack, 10).create_job(WS, request)
    total = created.job.counters.total

    report = await stack.processor(max_items=100).drain()

    assert report.received == total  # every item reached the queue
    if max_attempts == 1:
        assert report.dead == total and (await stack.queue.depth()).dead_letters == total
    else:
        assert report.deferred == total
        items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
        assert all(i.status is ItemStatus.DEFERRED and i.attempts == 1 for i in items)


async def test_a_crash_between_sending_successors_and_the_outcome_only_duplicates_messages(
    stack: Stack,
) -> None:
    """The leader's successors go out before its finish commits; here that commit fails once (as if the
    Lambda died), so the leader runs again and sends them again. Nothing is lost or counted twice."""
    created = await windowed(stack, 10).create_job(WS, leads(stack.sim, 25))
    total = created.job.counters.total
    failed: list[str] = []

    def fail_the_first_finish_of_the_leader(params: dict[str, Any], **_: Any) -> None:
        for action in params.get("TransactItems", []):
            update = action.get("Update", {})
            leader = update.get("Key", {}).get("SK", {}).get("S") == "ITEM#000000"
            outcome = "#sent_next" in update.get("ExpressionAttributeNames", {})  # finish, not claim
            if leader and outcome and not failed:
                failed.append("000000")
                raise ConnectionError("the processor died here")

    events = stack.dynamodb.meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", fail_the_first_finish_of_the_leader)
    reports = [await stack.processor(max_items=100, visibility_timeout=5).drain()]
    events.unregister(
        "before-parameter-build.dynamodb.TransactWriteItems", fail_the_first_finish_of_the_leader
    )
    assert failed and reports[0].errors == 1
    assert reports[0].received >= total  # the successors went out before the failed write
    # The leader's message and lease expire after 5 s (within the first run already, on a loaded machine).
    while (depth := await stack.queue.depth()).visible + depth.in_flight and len(reports) < 5:
        await asyncio.sleep(5.2)
        reports.append(await stack.processor(max_items=100, visibility_timeout=5).drain())

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.counters.processed == total
    assert sum(r.finished for r in reports) == total and sum(r.errors for r in reports) == 1
    assert sum(r.duplicates for r in reports) >= 10  # the leader's successors, sent again
    items = (await stack.store.list_items(WS, job.job_id, limit=100)).items
    assert sum(i.attempts for i in items) == total + 1  # only the leader ran twice: nothing else did
    assert (depth.visible, depth.in_flight, depth.dead_letters) == (0, 0, 0)


async def test_cancelling_a_windowed_job_skips_even_the_items_never_sent(stack: Stack) -> None:
    created = await windowed(stack, 10).create_job(WS, leads(stack.sim, 35))
    await stack.service.cancel_job(WS, created.job.job_id)

    report = await stack.processor(max_items=100).drain()

    items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
    assert report.skipped == len(items) and all(i.status is ItemStatus.SKIPPED for i in items)
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.counters.processed == job.counters.total
    assert (await stack.queue.depth()).visible == 0


async def test_a_handed_back_leader_still_sends_its_successors(stack: Stack) -> None:
    """SQS counts every receive, hand-backs included: a leader handed back run after run must not hold
    its chain back until its message lands in the DLQ. Here Domain Search's one slot a minute is taken
    before the run, so every item it receives is handed back, the first leader among them."""
    limits = dict(LIMITS) | {"hunter.domain_search": Limit(per_second=1, per_minute=1)}
    limiter = DynamoRateLimiter("leadenrich", stack.dynamodb, limits, serialize_calls=True)
    assert await limiter.acquire("hunter.domain_search", Deadline.after(1.0))
    created = await windowed(stack, 10).create_job(WS, leads(stack.sim, 30))

    report = await stack.processor(
        limiter, budget_seconds=6.0, margin_seconds=1.0, min_item_seconds=1.0, concurrency=4, max_items=100
    ).drain()

    assert report.released == report.received == 4 and report.finished == 0
    leader = await stack.store.get_item(WS, created.job.job_id, "000000")
    assert leader is not None and leader.status is ItemStatus.DEFERRED and leader.attempts == 0
    assert leader.sent_next
    depth = await stack.queue.depth()
    assert depth.visible + depth.in_flight + depth.delayed == 10 + 10  # the first window and 10..19


async def test_cancelling_skips_the_chain_behind_a_leader_whose_processor_died(stack: Stack) -> None:
    created = await windowed(stack, 10).create_job(WS, leads(stack.sim, 35))
    job_id = created.job.job_id
    # A processor receives and claims the first leader, then dies: message in flight, lease running out.
    (received,) = await stack.queue.receive(1, visibility_timeout=1)
    assert received.message.item_id == "000000"
    now = datetime.now(UTC)
    lease = now + timedelta(seconds=1)
    assert await stack.store.claim_item(WS, job_id, "000000", token="dead", lease_until=lease, now=now)
    await stack.service.cancel_job(WS, job_id)
    await asyncio.sleep(1.2)

    report = await stack.processor(max_items=100).drain()

    items = (await stack.store.list_items(WS, job_id, limit=100)).items
    assert all(i.status is ItemStatus.SKIPPED for i in items) and report.skipped == len(items)
    job = await stack.store.get_job(WS, job_id)
    assert job is not None and job.counters.processed == job.counters.total
    depth = await stack.queue.depth()
    assert (depth.visible, depth.in_flight) == (0, 0)


class RecordingCallbacks:
    """A CompletionCallbacks that records what the processor asks of it, and takes its time on progress."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def job_completed(self, job: Job, deadline: Deadline) -> None:
        self.calls.append(("completed", job.job_id))

    async def job_progressed(self, job: Job, deadline: Deadline) -> bool:
        self.calls.append(("progress started", job.job_id))
        await asyncio.sleep(0.3)  # a slow receiver
        self.calls.append(("progress ended", job.job_id))
        return True

    async def retry_due(self, deadline: Deadline, limit: int = 10) -> int:
        self.calls.append(("retries", ""))
        return 0


async def test_owed_retries_go_before_progress_and_progress_events_go_out_together(stack: Stack) -> None:
    progress = CreateJobRequest.model_validate(
        {
            "domains": list(SHOWCASE_DOMAINS),
            "webhook_url": "https://93.184.216.34/hook",
            "webhook_events": ["job.progress", "job.completed"],
        }
    )
    service = windowed(stack, 2)  # queue: a0 a1 b0 b1, then what a0 and b0 send
    first = await service.create_job("ws-a", progress)
    second = await service.create_job("ws-b", progress)
    callbacks = RecordingCallbacks()
    processor = stack.processor(max_items=4, concurrency=1)
    processor.callbacks = callbacks

    report = await processor.drain()

    assert report.finished == 4 and not report.completed_jobs
    assert callbacks.calls[0] == ("retries", "")  # what is owed first
    # The slow receivers were not waited for one after another: both events started before either ended.
    assert set(callbacks.calls[1:3]) == {
        ("progress started", first.job.job_id),
        ("progress started", second.job.job_id),
    }
    assert {c for c, _ in callbacks.calls[3:]} == {"progress ended"} and len(callbacks.calls) == 5
