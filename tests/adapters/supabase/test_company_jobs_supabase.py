"""Company data end to end with Supabase as lead source and sink, through the Lambda handlers: real API
Gateway and EventBridge events, DynamoDB and SQS on moto, providers on the simulator, PostgreSQL + PostgREST;
every API answer checked against docs/openapi.json.

Given inline leads (one with a domain, one with only a company name, one with a brand two companies share)
and `company_data`, when the job is drained, then the leads in Supabase hold their company columns, the
name-only lead holds the domain it was resolved to with its confidence, the ambiguous one is left as it was,
and the API's items show the company and the resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.jobs.models import DEFAULT_WORKSPACE
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def stack(
    simulator: SimulatorServer,
    supabase_db: SupabaseTestServer,
    mocked_aws: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SupabaseTestServer]:
    simulator.reset(base_config())
    monkeypatch.delenv("JOB_STORE", raising=False)
    lambda_env_on_moto(simulator, monkeypatch, supabase_db.env())
    yield supabase_db
    runtime.reset()


def drain() -> dict[str, Any]:
    summary: dict[str, Any] = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    return summary


def test_company_data_lands_on_the_stored_leads_and_in_the_items(
    stack: SupabaseTestServer, simulator: SimulatorServer
) -> None:
    leads = [
        {"domain": "acme-robotics.com", "external_id": "crm-1"},
        {"company_name": "Nordlicht Energie", "external_id": "crm-2"},
        {"company_name": "Brightlane", "external_id": "crm-3"},
    ]
    status, job, _ = call("POST", "/jobs", body={"leads": leads, "company_data": True})
    assert status == 202 and job["options"]["company_data"] is True
    assert drain()["completed_jobs"] == [job["job_id"]]

    status, page, _ = call("GET", f"/jobs/{job['job_id']}/items")
    assert status == 200
    acme, nordlicht, brightlane = page["items"]
    assert acme["company"]["industry"] == "Machinery" and acme["company"]["completeness"] == 100
    assert nordlicht["lead"] == {"company_name": "Nordlicht Energie", "external_id": "crm-2"}
    assert nordlicht["resolution"]["domain"] == "nordlicht-energie.de"
    assert nordlicht["company"]["name"] == "Nordlicht Energie GmbH"
    assert brightlane["status"] == "invalid" and brightlane["resolution"]["status"] == "ambiguous"
    assert "company" not in brightlane

    stored = {
        row["external_id"]: row
        for row in stack.query(
            "select external_id, domain, industry, company_size, location, company_completeness,"
            " company_enriched_at, domain_confidence, domain_resolved_by from leads"
            f" where workspace_id = '{DEFAULT_WORKSPACE}'"
        )
    }
    assert stored["crm-1"]["industry"] == "Machinery" and stored["crm-1"]["company_completeness"] == 100
    assert stored["crm-1"]["domain_confidence"] is None
    enriched_at = datetime.fromisoformat(stored["crm-1"]["company_enriched_at"])
    assert abs(enriched_at - datetime.now(UTC)) < timedelta(days=2)  # the engine's clock, today
    resolved = stored["crm-2"]
    assert (resolved["domain"], resolved["domain_confidence"], resolved["domain_resolved_by"]) == (
        "nordlicht-energie.de",
        100,
        "discover",
    )
    assert resolved["location"] and resolved["company_size"]
    assert (stored["crm-3"]["domain"], stored["crm-3"]["industry"]) == ("", None)  # never guessed

    # Enriched again within the maximum age: the company answers come from the cache and nothing changes.
    before = simulator.ledger.calls("hunter.companies_find")
    status, again, _ = call("POST", "/jobs", body={"leads": leads[:2], "company_data": True})
    assert status == 202 and drain()["completed_jobs"] == [again["job_id"]]
    assert simulator.ledger.calls("hunter.companies_find") == before
