"""The Lambda handlers invoked with real API Gateway v2 and EventBridge events, on moto and the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from leadenrich import runtime
from leadenrich.engine.models import Deliverability
from leadenrich.jobs.views import ItemsPage
from leadenrich.settings_errors import SettingsError
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def aws(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lambda_env_on_moto(simulator, monkeypatch)
    yield
    runtime.reset()


def test_health() -> None:
    status, health, _ = call("GET", "/health")
    assert (status, health["status"]) == (200, "ok") and health["dependencies"]["table"]["status"] == "ok"


def test_create_then_process_then_read_a_job_through_the_handlers() -> None:
    status, job, headers = call(
        "POST", "/jobs", body={"domains": list(SHOWCASE_DOMAINS[:3]), "tags": ["demo"]}
    )
    assert status == 202 and job["status"] == "pending" and job["counters"]["total"] == 3
    assert headers["Location"] == f"/jobs/{job['job_id']}"

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["finished"] == 3 and summary["completed_jobs"] == [job["job_id"]]

    status, done, _ = call("GET", f"/jobs/{job['job_id']}")
    assert status == 200 and done["status"] == "completed" and done["counters"]["processed"] == 3
    assert done["counters"]["api_calls_hunter"] >= 1 and done["cost"]["hunter_credits"] >= 1
    status, page, _ = call("GET", f"/jobs/{job['job_id']}/items")
    assert [i["item_id"] for i in page["items"]] == ["000000", "000001", "000002"]
    assert all(i["status"] == "found" and i["emails"] for i in page["items"])
    typed = ItemsPage.model_validate(page)  # the answer is what the OpenAPI document says (extra: forbidden)
    assert all(e.deliverability is Deliverability.VERIFIED for i in typed.items for e in i.emails[:1])
    status, listing, _ = call("GET", "/jobs", query={"tag": "demo", "status": "completed"})
    assert [j["job_id"] for j in listing["jobs"]] == [job["job_id"]]
    status, metrics, _ = call("GET", "/metrics")
    assert status == 200 and metrics["queue_depth"] == 0 and metrics["dlq_depth"] == 0
    assert metrics["items_processed_last_hour"] == 3 and metrics["items_found_last_hour"] == 3
    assert metrics["success_rate"] == 1.0 and metrics["found_rate"] == 1.0


def test_queue_window_sets_how_much_of_a_job_is_enqueued_at_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEUE_WINDOW", "2")
    runtime.reset()
    status, job, _ = call("POST", "/jobs", body={"domains": list(SHOWCASE_DOMAINS[:5])})
    assert status == 202 and job["options"]["queue_window"] == 2
    _, metrics, _ = call("GET", "/metrics")
    assert metrics["queue_depth"] == 2  # the rest is sent by the processor as these finish

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["finished"] == 5 and summary["completed_jobs"] == [job["job_id"]]

    monkeypatch.setenv("QUEUE_WINDOW", "-1")
    runtime.reset()
    with pytest.raises(SettingsError, match=r"^QUEUE_WINDOW: "):
        runtime.job_service()


def test_the_window_is_per_processor_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ProcessorWorkers (PROCESSOR_WORKERS) at 2, a job keeps twice QUEUE_WINDOW items in the queue, so
    one large job keeps every worker busy (docs/runtime.md "Scaling")."""
    monkeypatch.setenv("QUEUE_WINDOW", "2")
    monkeypatch.setenv("PROCESSOR_WORKERS", "2")
    runtime.reset()
    status, job, _ = call("POST", "/jobs", body={"domains": list(SHOWCASE_DOMAINS[:5])})
    assert status == 202 and job["options"]["queue_window"] == 4
    _, metrics, _ = call("GET", "/metrics")
    assert metrics["queue_depth"] == 4

    monkeypatch.setenv("PROCESSOR_WORKERS", "9")
    runtime.reset()
    with pytest.raises(SettingsError, match=r"^PROCESSOR_WORKERS: "):
        runtime.job_service()


def test_metrics_before_anything_ran_say_so_instead_of_inventing_a_rate() -> None:
    status, metrics, _ = call("GET", "/metrics")
    assert status == 200 and metrics["items_processed_last_hour"] == 0
    assert metrics["success_rate"] is None and metrics["found_rate"] is None


def test_the_same_idempotency_key_returns_the_same_job() -> None:
    body = {"domains": ["acme-robotics.com"]}
    _, first, _ = call("POST", "/jobs", body=body, headers={"idempotency-key": "abc"})
    status, again, headers = call("POST", "/jobs", body=body, headers={"idempotency-key": "abc"})
    assert (
        status == 202 and again["job_id"] == first["job_id"] and headers.get("Idempotent-Replayed") == "true"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"leads": [{"domain": "acme.com"}, {"domain": "not a domain"}]}, "body.leads.1.domain"),
        ({"domains": ["acme.com"], "priority": 7}, "body.priority"),
        ({"domains": ["acme.com"], "surprise": True}, "body.surprise"),
        ("not json at all", "body"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(body: object, field: str) -> None:
    status, error, _ = call("POST", "/jobs", body=body)
    assert status == 422 and error["field"] == field and error["message"]


def test_unknown_jobs_are_404_and_cancel_and_retry_work() -> None:
    assert call("GET", "/jobs/job_nope")[0] == 404
    assert call("DELETE", "/jobs/job_nope")[0] == 404
    assert call("POST", "/jobs/job_nope/retry")[0] == 404
    _, job, _ = call("POST", "/jobs", body={"domains": ["acme-robotics.com", "globex-analytics.io"]})
    status, cancelled, _ = call("DELETE", f"/jobs/{job['job_id']}")
    assert status == 200 and cancelled["status"] == "cancelled"
    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["skipped"] == 2 and summary["finished"] == 0
    status, retried, _ = call("POST", f"/jobs/{job['job_id']}/retry")
    assert status == 202 and retried["requeued"] == 0  # skipped items are not failures


def test_list_filters_are_validated() -> None:
    status, error, _ = call("GET", "/jobs", query={"status": "exploded"})
    assert status == 422 and error["field"] == "query.status"
    status, error, _ = call("GET", "/jobs", query={"limit": "0"})
    assert status == 422 and error["field"] == "query.limit"


def test_the_processor_keeps_within_the_lambda_time_left(simulator: SimulatorServer) -> None:
    simulator.configure(time_scale=1.0, latency_domain_search=(3.0, 3.0))
    call("POST", "/jobs", body={"domains": list(SHOWCASE_DOMAINS)})
    summary = handle_process.handler(SCHEDULED_EVENT, Context(remaining_ms=20_000))  # type: ignore[arg-type]
    assert summary["received"] > 0  # it did work...
    assert summary["seconds"] < 20.0 - handle_process.TIMEOUT_MARGIN_SECONDS + 1.0  # ...and stopped in time


def test_provider_keys_come_from_secrets_manager_when_configured(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.configure(
        accept_any_key=False, hunter_api_keys=["key-from-secret"], perplexity_api_keys=["pplx-secret"]
    )
    secret = boto3.client("secretsmanager").create_secret(
        Name="leadenrich/providers",
        SecretString=json.dumps({"HUNTER_API_KEY": "key-from-secret", "PERPLEXITY_API_KEY": "pplx-secret"}),
    )
    monkeypatch.delenv("HUNTER_API_KEY")
    monkeypatch.delenv("PERPLEXITY_API_KEY")
    monkeypatch.setenv("PROVIDER_SECRET_ARN", secret["ARN"])
    runtime.reset()
    _, job, _ = call("POST", "/jobs", body={"domains": [SHOWCASE_DOMAINS[0]]})
    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["finished"] == 1
    _, done, _ = call("GET", f"/jobs/{job['job_id']}/items")
    assert done["items"][0]["status"] == "found"  # the simulator accepted only the secret's key


def test_supabase_sources_without_supabase_are_a_422_naming_the_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    runtime.reset()
    for body, field in (
        ({"lead_ids": ["6f042a7e-71b9-4bc0-b4b9-bef51c4fd88e"]}, "body.lead_ids"),
        ({"process_all": True}, "body.process_all"),
        ({"process_all": True, "dry_run": True}, "body.process_all"),
        ({"domains": ["acme.com"], "skip_existing": True}, "body.skip_existing"),
        ({"domains": ["acme.com"], "dry_run": True}, "body.dry_run"),
        ({"domains": ["acme.com"], "limit": 5}, "body.limit"),
    ):
        status, answer, _ = call("POST", "/jobs", body=body)
        assert (status, answer["field"]) == (422, field), body
        if field not in ("body.dry_run", "body.limit"):
            assert "requires Supabase: set SUPABASE_URL" in answer["message"], answer
    status, answer, _ = call("GET", "/stats")
    assert status == 501 and "requires Supabase" in answer["message"]
    assert call("GET", "/jobs")[1]["jobs"] == []  # nothing was created
    status, job, _ = call("POST", "/jobs", body={"domains": ["acme.com"], "skip_existing": False})
    assert status == 202 and "selection" not in job  # domains without Supabase: enriched as given
