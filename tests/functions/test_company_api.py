"""Company data through the Lambda handlers with real events, on moto (DynamoDB and SQS) and the simulator:
`company_data` on POST /jobs, name-only leads, the processor Lambda as `leadenrich.runtime` wires it, and
the answers, every one held to docs/openapi.json."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from leadenrich import runtime
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


def test_a_company_data_job_on_dynamodb_answers_companies_and_resolutions(simulator: SimulatorServer) -> None:
    leads = [
        {"domain": "globex-analytics.io"},
        {"company_name": "Maison Dupont"},
        {"company_name": "Zyxwv Ltd"},
    ]
    status, job, _ = call("POST", "/jobs", body={"leads": leads, "company_data": True})
    assert status == 202 and job["options"]["company_data"] is True

    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["completed_jobs"] == [job["job_id"]]

    status, page, _ = call("GET", f"/jobs/{job['job_id']}/items")
    assert status == 200
    globex, maison, unknown = page["items"]
    assert globex["company"]["domain"] == "globex-analytics.io" and "resolution" not in globex
    assert maison["resolution"]["domain"] == "maison-dupont.fr" and maison["company"]["name"]
    assert unknown["status"] == "not_found" and unknown["reason"].startswith("company_unknown:")
    status, done, _ = call("GET", f"/jobs/{job['job_id']}")
    billed = simulator.ledger.snapshot()
    assert done["counters"]["api_calls_hunter"] == billed["hunter_calls"]
    assert done["cost"]["hunter_credits"] == billed["credits_search"] + billed["credits_verification"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"leads": [{"first_name": "Ann"}]}, "body.leads.0.domain"),
        ({"leads": [{"domain": "", "company_name": " "}]}, "body.leads.0.domain"),
        ({"leads": [{"domain": "not a domain", "company_name": "Acme"}]}, "body.leads.0.domain"),
        ({"emails": ["ann@acme.com"], "company_data": True}, "body.company_data"),
        ({"domains": ["acme.com"], "company_data": "maybe"}, "body.company_data"),
    ],
)
def test_bad_company_input_is_a_422_naming_the_field(body: dict[str, object], field: str) -> None:
    status, answer, _ = call("POST", "/jobs", body=body)
    assert status == 422 and answer["field"] == field, answer
