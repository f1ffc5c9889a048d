"""A verification job through the Lambda handlers with real events, on moto and the simulator: POST /jobs
with `emails`, the processor Lambda as `leadenrich.runtime` wires it (the verifier beside the enricher),
and the answers, every one held to docs/openapi.json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime
from leadenrich.jobs.views import ItemsPage
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
    simulator.reset(base_config())
    lambda_env_on_moto(simulator, monkeypatch)
    yield
    runtime.reset()


def test_a_job_of_addresses_is_verified_and_read_back_per_address(simulator: SimulatorServer) -> None:
    real = sorted(simulator.world.truth("acme-robotics.com").mailboxes)[0]
    emails = [real.upper(), "nobody@globex-analytics.io", "nobody.here@acme-robotics.com"]
    status, job, headers = call("POST", "/jobs", body={"emails": emails, "tags": ["verify"]})
    assert status == 202 and job["kind"] == "verification" and job["counters"]["total"] == 3
    assert headers["Location"] == f"/jobs/{job['job_id']}"

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["finished"] == 3 and summary["completed_jobs"] == [job["job_id"]]

    status, done, _ = call("GET", f"/jobs/{job['job_id']}")
    assert status == 200 and (done["status"], done["kind"]) == ("completed", "verification")
    assert (done["counters"]["found"], done["counters"]["risky"]) == (1, 1)
    assert done["counters"]["api_calls_hunter"] == 3 and done["cost"]["hunter_credits"] == 3
    status, page, _ = call("GET", f"/jobs/{job['job_id']}/items")
    assert status == 200
    verdicts = [
        (
            item["lead"]["email"],
            item["status"],
            [(e["hunter_status"], e["deliverability"], e["status"]) for e in item["emails"]],
        )
        for item in page["items"]
    ]
    assert verdicts == [
        (real, "found", [("deliverable", "verified", "active")]),
        ("nobody@globex-analytics.io", "risky", [("risky", "catch_all", "inactive")]),
        ("nobody.here@acme-robotics.com", "invalid", [("undeliverable", "undeliverable", "inactive")]),
    ]
    typed = ItemsPage.model_validate(page)
    assert (
        typed.items[0].emails[0].confidence_score > 80 and typed.items[0].lead.domain == "acme-robotics.com"
    )
    status, listing, _ = call("GET", "/jobs", query={"tag": "verify"})
    assert [(j["job_id"], j["kind"]) for j in listing["jobs"]] == [(job["job_id"], "verification")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"emails": ["a@acme.com", "b@acme.com", "c@acme.com", "d at acme.com"]}, "body.emails.3"),
        ({"emails": ["a@acme.com"], "domains": ["acme.com"]}, "body"),
        ({"emails": ["a@acme.com"], "skip_existing": True}, "body.skip_existing"),
        ({"leads": [{"domain": "acme.com", "email": "a@acme.com"}]}, "body.leads.0.email"),
        ({"emails": "a@acme.com"}, "body.emails"),
    ],
)
def test_bad_addresses_are_a_422_naming_the_field(body: object, field: str) -> None:
    status, error, _ = call("POST", "/jobs", body=body)
    assert status == 422 and error["field"] == field and error["message"]
    assert "d at acme.com" not in error["message"]
