"""The real processor with the Supabase job store: SQS on moto, providers on the simulator, jobs and items in
PostgreSQL through PostgREST, so two processors and duplicate deliveries race for real rows.

Given a job created through the job service, when processors drain the queue, then every item ends exactly
once, counters add up, completion is detected once, and the queue is left empty. Also: the runtime picks the
store from JOB_STORE, and the processor Lambda closes its Supabase client at the end of its invocation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, TypeVar

import boto3
import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.aws.dynamo_store import DynamoJobStore
from leadenrich.aws.sqs_queue import SqsWorkQueue, create_queues
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher
from leadenrich.jobs.models import ItemStatus, JobStatus, WorkMessage
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.retry import RetryPolicy
from leadenrich.jobs.service import JobService
from leadenrich.settings_errors import SettingsError
from leadenrich.supabase import client as supabase_client_module
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.job_store import SupabaseJobStore
from tests.lambda_env import lambda_env_on_moto
from tests.simulator.conftest import TODAY, base_config

WS = "default"
T = TypeVar("T")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@dataclass
class Stack:
    store: SupabaseJobStore
    queue: SqsWorkQueue
    service: JobService
    sim: SimulatorServer

    def processor(self, **settings: Any) -> Processor:
        enricher = Enricher(
            HunterClient("sim-hunter-key", base_url=self.sim.hunter_base_url),
            PerplexityClient("sim-pplx-key", base_url=self.sim.perplexity_base_url),
            ResultCache(InMemoryCache()),
            clock=lambda: datetime.combine(TODAY, time(12), UTC),
        )
        defaults: dict[str, Any] = {"budget_seconds": 20.0, "visibility_timeout": 30, "min_item_seconds": 2.0}
        return Processor(
            self.store, self.queue, enricher, ProcessorSettings(**(defaults | settings)), RetryPolicy()
        )


@pytest.fixture
async def stack(
    simulator: SimulatorServer, mocked_aws: None, supabase_db: SupabaseTestServer
) -> AsyncIterator[Stack]:
    simulator.reset(base_config())
    queue_url, dlq_url = create_queues(boto3.client("sqs"), "leadenrich-work", visibility_timeout=30)
    queue = SqsWorkQueue(queue_url, dlq_url, boto3.client("sqs"))
    settings = SupabaseSettings.from_env(supabase_db.env())
    assert settings is not None
    store = SupabaseJobStore(settings)
    yield Stack(store, queue, JobService(store, queue), simulator)
    await close_shared_http_client()
    await close_supabase_clients()


def leads(sim: SimulatorServer, n: int) -> CreateJobRequest:
    sample = sim.world.sample_leads(n, seed=21)
    return CreateJobRequest.model_validate(
        {"leads": [{"domain": s.domain, "company_name": s.company_name} for s in sample if "." in s.domain]}
    )


async def test_a_job_is_drained_completed_once_and_counted(
    stack: Stack, supabase_db: SupabaseTestServer
) -> None:
    created = await stack.service.create_job(WS, leads(stack.sim, 24))
    total = created.job.counters.total

    report = await stack.processor(max_items=100).drain()

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.completed_at is not None
    assert [j.job_id for j in report.completed_jobs] == [created.job.job_id]
    items = (await stack.store.list_items(WS, job.job_id, limit=1000)).items
    assert len(items) == total and all(i.status.terminal for i in items)
    assert all(i.attempts == 1 and i.lease_token is None for i in items)
    assert job.counters.processed == total == report.finished
    assert job.counters.found == sum(i.status is ItemStatus.FOUND for i in items)
    assert job.counters.created_emails == sum(len(i.result["emails"]) for i in items if i.result)
    billed = stack.sim.ledger.snapshot()
    assert job.counters.api_calls_hunter == billed["hunter_calls"]
    activity = supabase_db.query(
        "select sum(processed)::int as processed, sum(found)::int as found from job_activity"
    )
    assert activity == [{"processed": total, "found": job.counters.found}]
    depth = await stack.queue.depth()
    assert (depth.visible, depth.in_flight, depth.dead_letters) == (0, 0, 0)


async def test_the_same_message_delivered_twice_runs_and_counts_once(stack: Stack) -> None:
    created = await stack.service.create_job(WS, CreateJobRequest(domains=[SHOWCASE_DOMAINS[0]]))
    await stack.queue.send([WorkMessage(WS, created.job.job_id, "000000")])  # a duplicate delivery

    report = await stack.processor().drain()

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.counters.processed == 1 and report.finished == 1
    assert job.status is JobStatus.COMPLETED and len(report.completed_jobs) == 1
    assert report.duplicates == 1
    assert stack.sim.ledger.snapshot()["calls"]["hunter.domain_search"] == 1
    item = await stack.store.get_item(WS, created.job.job_id, "000000")
    assert item is not None and item.attempts == 1
    assert (await stack.queue.depth()).visible == 0


async def test_two_processors_at_once_never_run_an_item_twice(stack: Stack) -> None:
    created = await stack.service.create_job(WS, leads(stack.sim, 30))
    # Every message delivered twice as well: the two processors race for the same items.
    await stack.queue.send(
        [WorkMessage(WS, created.job.job_id, f"{n:06d}") for n in range(created.job.counters.total)]
    )
    first, second = stack.processor(max_items=100), stack.processor(max_items=100)

    reports = await asyncio.gather(first.drain(), second.drain())

    seen = [(r.received, r.finished, r.deferred, r.released, r.dead, r.duplicates, r.errors) for r in reports]
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED, seen
    assert sum(r.finished for r in reports) == job.counters.total == job.counters.processed, seen
    assert sum(len(r.completed_jobs) for r in reports) == 1
    assert sum(r.errors for r in reports) == 0, seen
    # Every run of an item is one charged claim, and every claim is one run: no item ran twice, at once or
    # after it finished (with no deferrals, each item was claimed exactly once and the other copy of its
    # message found it held or finished).
    items = (await stack.store.list_items(WS, job.job_id, limit=100)).items
    runs = sum(r.finished + r.deferred + r.dead for r in reports)
    assert sum(i.attempts for i in items) == runs, seen
    if not any(r.deferred or r.released for r in reports):
        assert all(i.attempts == 1 for i in items)
        assert sum(r.duplicates for r in reports) == job.counters.total, seen
    assert job.counters.api_calls_hunter == stack.sim.ledger.snapshot()["hunter_calls"]  # billed once each


async def test_cancelling_mid_job_skips_the_rest_and_keeps_finished_results(stack: Stack) -> None:
    created = await stack.service.create_job(WS, leads(stack.sim, 12))
    await stack.processor(max_items=4, concurrency=4).drain()
    cancelled = await stack.service.cancel_job(WS, created.job.job_id)
    assert cancelled is not None and cancelled.status is JobStatus.CANCELLED

    report = await stack.processor(max_items=100).drain()

    items = (await stack.store.list_items(WS, created.job.job_id, limit=100)).items
    finished = [i for i in items if i.status is not ItemStatus.SKIPPED]
    assert len(finished) == 4 and all(i.result for i in finished)
    assert report.skipped == len(items) - 4 and report.finished == 0
    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.CANCELLED and job.counters.processed == len(items)


# --- the runtime: JOB_STORE, and the processor Lambda on Supabase ------------------------------------------


@dataclass
class Context:
    """The attributes of a Lambda context the handler and Powertools read."""

    function_name: str = "leadenrich-processor"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:leadenrich-processor"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "e6a1b1d6-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-22T09:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/leadenrich-processor"],
    "detail": {},
}


@pytest.fixture
def lambda_env(
    simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The processor Lambda's environment on moto and the simulator (DynamoDB holds cache and limits)."""
    env = lambda_env_on_moto(simulator, monkeypatch)
    for name in ("JOB_STORE", "SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    runtime.reset()
    yield env
    runtime.reset()


def run(work: Coroutine[Any, Any, T]) -> T:
    """Like a Lambda invocation: one event loop, whose Supabase client is closed before the loop ends."""

    async def invocation() -> T:
        try:
            return await work
        finally:
            await close_supabase_clients()

    return asyncio.run(invocation())


def test_job_store_is_dynamodb_by_default_and_anything_else_is_refused(
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(runtime.job_service().store, DynamoJobStore)

    monkeypatch.setenv("JOB_STORE", "mongodb")
    runtime.reset()
    with pytest.raises(SettingsError, match=r"^JOB_STORE: "):
        runtime.job_service()

    monkeypatch.setenv("JOB_STORE", "supabase")  # without SUPABASE_URL
    runtime.reset()
    with pytest.raises(SettingsError, match=r"^SUPABASE_URL: "):
        runtime.job_service()


def test_the_processor_lambda_drains_a_supabase_job_and_closes_its_client(
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, supabase_db: SupabaseTestServer
) -> None:
    for name, value in supabase_db.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOB_STORE", "supabase")
    service = runtime.job_service()
    assert isinstance(service.store, SupabaseJobStore)
    created = run(service.create_job(WS, CreateJobRequest(domains=list(SHOWCASE_DOMAINS[:3]))))

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]

    assert summary["finished"] == 3 and summary["completed_jobs"] == [created.job.job_id]
    assert supabase_client_module._CLIENTS == {}  # closed with the invocation's loop, nothing leaked
    job = run(service.get_job(WS, created.job.job_id))
    assert job is not None and job.status is JobStatus.COMPLETED and job.counters.processed == 3
    assert supabase_db.scalar("select status from jobs") == "completed"


async def test_a_job_larger_than_its_queue_window_is_fed_by_two_processors_and_completes_once(
    stack: Stack,
) -> None:
    """The window's state (the job's queue_window, each item's sent_next) lives in 0004's columns."""
    service = JobService(stack.store, stack.queue, queue_window=10)
    created = await service.create_job(WS, leads(stack.sim, 40))
    total = created.job.counters.total
    assert total > 20 and (await stack.queue.depth()).visible == 10
    stored = await stack.store.get_job(WS, created.job.job_id)
    assert stored is not None and stored.options.queue_window == 10

    # Each processor receives again after one of its items finished, so what an item sent is taken by the
    # same drain: none is left behind.
    reports = await asyncio.gather(*(stack.processor(max_items=100).drain() for _ in range(2)))

    job = await stack.store.get_job(WS, created.job.job_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.counters.processed == total
    assert sum(r.finished for r in reports) == total
    items = (await stack.store.list_items(WS, job.job_id, limit=100)).items
    assert all(i.status.terminal and i.sent_next for i in items)
    depth = await stack.queue.depth()
    assert (depth.visible, depth.in_flight, depth.dead_letters) == (0, 0, 0)
