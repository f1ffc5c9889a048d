"""The sweep in the processor Lambda on moto (DynamoDB, SQS) and the simulator: a workspace with a
re-verification budget gets its verification job from the scheduled run, once a UTC day however often the
processor runs, the job runs through the same drain, and the next day's run reconciles it; a workspace
without a budget gets nothing, and a sweep that fails is logged by type without costing the run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime, runtime_reverify
from leadenrich.jobs.models import Job
from leadenrich.privacy.ports import AuditQuery, WorkspaceSettings
from leadenrich.reverify.service import ACTION, TAG
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context
from tests.support.reverify_world import NOW, OLDEST, OTHER, SHARED, WS, seed
from tests.support.simulator import base_config

BUDGET = WorkspaceSettings(reverify_monthly_credits=18)  # 2 credits on Nov 22nd: two verifications at 1


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def clock(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    lambda_env_on_moto(simulator, monkeypatch)
    clock = Clock()
    monkeypatch.setattr(runtime_reverify, "CLOCK", clock)
    yield clock
    runtime.reset()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def sweep_jobs(workspace: str) -> list[Job]:
    return run(runtime.job_service().store.list_jobs(workspace, tag=TAG)).items  # type: ignore[no-any-return]


def process() -> dict[str, Any]:
    return handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]


def test_a_due_sweep_creates_its_job_once_a_day_and_reconciles_it_the_next(clock: Clock) -> None:
    run(seed(runtime.job_service().store))
    run(runtime.workspace_settings().put(WS, BUDGET))

    first = process()
    jobs = sweep_jobs(WS)
    assert len(jobs) == 1 and (jobs[0].options.priority, jobs[0].options.max_credits) == (5, 2.0)
    items = run(runtime.job_service().store.list_items(WS, jobs[0].job_id)).items
    assert sorted(i.lead.email for i in items) == sorted([OLDEST, SHARED])
    assert first["completed_jobs"] == [jobs[0].job_id]  # the same run's drain verified them
    assert sweep_jobs(OTHER) == []  # no budget, no sweep

    clock.now = NOW + timedelta(minutes=1)
    process()
    runtime_reverify.reset()  # another process (a new Lambda container) looks too
    process()
    assert len(sweep_jobs(WS)) == 1  # still one job today

    clock.now = NOW + timedelta(days=1)
    process()
    later = sweep_jobs(WS)
    assert len(later) == 2 and later[1].job_id == jobs[0].job_id
    # The simulator knows no acme.com: day 1's verdicts (undeliverable) were carried back and audited.
    entries = run(runtime.audit_log().query(AuditQuery(WS, action=ACTION))).items
    assert sorted(e.job_id for e in entries) == [jobs[0].job_id, jobs[0].job_id]


def test_a_failing_sweep_is_logged_by_type_and_the_run_goes_on(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "1")  # the sweep's two addresses exceed the workspace's quota
    runtime.reset()
    run(seed(runtime.job_service().store))
    run(runtime.workspace_settings().put(WS, BUDGET))

    summary = process()
    assert summary["errors"] == 0 and sweep_jobs(WS) == []
    failed = [r for r in caplog.records if r.getMessage() == "reverify sweep failed"]
    assert [(r.workspace_id, r.error) for r in failed] == [(WS, "QuotaExceeded")]  # type: ignore[attr-defined]
    logged = " ".join(repr(vars(r)) for r in caplog.records)
    assert OLDEST not in logged and SHARED not in logged
