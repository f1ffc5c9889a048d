"""Priorities through the Lambda handlers on moto: the queue wiring `leadenrich.runtime` builds from the
environment (one SQS queue and DLQ per band, as template.yaml has them; or QUEUE_URL alone, as a stack
deployed before priorities)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime
from leadenrich.aws.sqs_queue import SqsWorkQueue
from leadenrich.jobs.priorities import BandedWorkQueue
from leadenrich.settings_errors import SettingsError
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

BAND_VARIABLES = (
    "HIGH_PRIORITY_QUEUE_URL",
    "HIGH_PRIORITY_DEAD_LETTER_QUEUE_URL",
    "LOW_PRIORITY_QUEUE_URL",
    "LOW_PRIORITY_DEAD_LETTER_QUEUE_URL",
)


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def env(
    simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    yield lambda_env_on_moto(simulator, monkeypatch, {"MAX_ITEMS_PER_RUN": "10", "QUEUE_WINDOW": "0"})
    runtime.reset()


def post_job(domains: list[str], priority: int) -> str:
    status, job, _ = call("POST", "/jobs", body={"domains": domains, "priority": priority})
    assert status == 202 and job["options"]["priority"] == priority
    job_id: str = job["job_id"]
    return job_id


def test_a_priority_1_job_posted_after_a_priority_5_one_completes_in_the_next_run(
    env: dict[str, str], simulator: SimulatorServer
) -> None:
    assert set(BAND_VARIABLES) <= set(env)
    assert isinstance(runtime.work_queue(), BandedWorkQueue)
    domains = [lead.domain for lead in simulator.world.sample_leads(60, seed=21) if "." in lead.domain]
    bulk = post_job(domains[:30], priority=5)
    urgent = post_job(list(SHOWCASE_DOMAINS[:3]), priority=1)
    _, metrics, _ = call("GET", "/metrics")
    assert metrics["queue_depth"] == 33  # every band's queue counted

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]

    assert summary["finished"] == 10 and urgent in summary["completed_jobs"]
    _, job, _ = call("GET", f"/jobs/{bulk}")
    assert job["counters"]["processed"] == 7


def test_a_stack_with_only_queue_url_runs_every_priority_in_that_one_queue(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in BAND_VARIABLES:
        monkeypatch.delenv(variable)
    runtime.reset()
    assert isinstance(runtime.work_queue(), SqsWorkQueue)

    jobs = [
        post_job([domain], priority) for domain, priority in zip(SHOWCASE_DOMAINS, (5, 1, 3), strict=False)
    ]
    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]

    assert sorted(summary["completed_jobs"]) == sorted(jobs)


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ("HIGH_PRIORITY_QUEUE_URL", "HIGH_PRIORITY_DEAD_LETTER_QUEUE_URL"),
        ("LOW_PRIORITY_DEAD_LETTER_QUEUE_URL", "LOW_PRIORITY_QUEUE_URL"),
    ],
)
def test_a_band_queue_without_its_dead_letter_queue_is_a_settings_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, given: str, missing: str
) -> None:
    monkeypatch.delenv(missing)
    runtime.reset()
    with pytest.raises(SettingsError, match=rf"^{missing}: required with {given}$"):
        runtime.job_service()
