"""What is the Supabase job store's own in the processor Lambda: the runtime picks the store from JOB_STORE,
and the processor Lambda closes its Supabase client at the end of each invocation.

The processor's behaviour on the Supabase store (exactly once, two processors, duplicates, windows, dead
letters...) is the suite every backend runs: tests/jobs/suite. These two are about the Lambda's wiring and
the supabase client's life, which no other backend has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.jobs.models import JobStatus
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.settings_errors import SettingsError
from leadenrich.supabase import client as supabase_client_module
from leadenrich.supabase.client import close_supabase_clients
from leadenrich.supabase.job_store import SupabaseJobStore
from tests.support.backends import WS, DynamoJobStore
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context
from tests.support.simulator import base_config

T = TypeVar("T")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


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
