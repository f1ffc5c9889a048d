"""`POST /erasures` end to end, as issue 14 asks: a small simulated world is enriched through the Lambda
handlers (the API, the processor) on DynamoDB (moto), and on Supabase (PostgreSQL + PostgREST) as job
store, lead source and email sink, and served from the lead buffer and `POST /enrich`; one person is
erased; then every DynamoDB row (a Scan of the whole table,
every attribute, as JSON text) and every Supabase table (`select *` of each table of schema public, as text)
is read: nothing of that person remains but the suppression entries' hashes and the audit entry. Another
workspace's data is untouched, and a new job for the person finds nothing and pays for nothing. Every
answer is held to docs/openapi.json."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.privacy.identity import email_identity, person_identity
from tests.support.erasure_world import dynamo_text
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

WS, OTHER = "ws-erasing", "ws-bystander"
TABLE = "leadenrich"  # lambda_env_on_moto's
# Pieter van der Berg, co-founder and CEO of the simulator's brightlane.co.uk: Domain Search lists him,
# Perplexity names him (with a page of his company's), and he has a name no one else in this world has.
PIETER = {
    "domain": "brightlane.co.uk",
    "first_name": "Pieter",
    "last_name": "van der Berg",
    "external_id": "crm-pv",
}
ADDRESS = "pieter.vanderberg@brightlane.co.uk"
TRACES = ("pieter", "vanderberg", "van der berg", "van-der-berg", "crm-pv")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(autouse=True)
def aws(simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lambda_env_on_moto(simulator, monkeypatch)
    yield
    runtime.reset()


def supabase(db: SupabaseTestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Supabase as job store, lead source and email sink (DynamoDB keeps the cache, limits and lists)."""
    for name, value in db.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOB_STORE", "supabase")
    runtime.reset()


def traces(text: str) -> list[str]:
    low = text.casefold()
    return [t for t in TRACES if t in low]


def enrich(workspace: str, leads: list[dict[str, str]]) -> list[dict[str, Any]]:
    """A job of `leads` through the API, run by the processor Lambda to the end; its items."""
    status, job, _ = call("POST", "/jobs", body={"leads": leads}, workspace=workspace)
    assert status == 202, job
    for _ in range(10):
        handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
        status, done, _ = call("GET", f"/jobs/{job['job_id']}", workspace=workspace)
        if done["status"] == "completed":
            break
    assert done["status"] == "completed", done
    status, page, _ = call("GET", f"/jobs/{job['job_id']}/items", workspace=workspace)
    assert status == 200
    items: list[dict[str, Any]] = page["items"]
    return items


def addresses(items: list[dict[str, Any]]) -> set[str]:
    return {e["email"] for item in items for e in item["emails"]}


def dynamo_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(dynamo_text(boto3.client("dynamodb"), TABLE))
    return rows


def supabase_rows(db: SupabaseTestServer) -> dict[str, list[dict[str, Any]]]:
    tables = [
        r["table_name"]
        for r in db.query(
            "select table_name from information_schema.tables where table_schema = 'public'"
            " and table_type = 'BASE TABLE'"
        )
    ]
    return {table: db.query(f"select * from public.{table}") for table in tables}


def enrich_the_world() -> None:
    """Pieter (by name), his company and another in the erasing workspace; Pieter in another workspace."""
    mine = enrich(WS, [PIETER, {"domain": "brightlane.co.uk"}, {"domain": "acme-robotics.com"}])
    assert mine[0]["emails"][0]["email"] == ADDRESS and ADDRESS in addresses(mine[1:2])
    assert ADDRESS in addresses(enrich(OTHER, [PIETER]))


NS = "campaign-erasure"


def buffer_the_world() -> None:
    """In both workspaces: Pieter (by name) and his company served from the buffer, enriched (his address
    found for both), his address waiting, a cursor state naming him; and who his address is, looked up."""
    company = {"domain": "brightlane.co.uk", "data": {"owner": ADDRESS}}
    for workspace in (WS, OTHER):
        status, pushed, _ = call(
            "POST",
            "/buffer/push",
            body={"namespace": NS, "leads": [PIETER, company, {"email": ADDRESS}]},
            workspace=workspace,
        )
        assert status == 200 and pushed["buffered"] == 3, pushed
        served = []
        for run in ("run-1", "run-2"):
            status, answer, _ = call(
                "POST", "/buffer/next", body={"namespace": NS, "parent_run_id": run}, workspace=workspace
            )
            assert status == 200 and answer["found"], answer
            served.append(answer["lead"])
        assert all(ADDRESS in json.dumps(lead["emails"]) for lead in served), served
        status, _, _ = call("PUT", f"/cursor/{NS}", body={"state": {"last": ADDRESS}}, workspace=workspace)
        assert status == 200
    status, person, _ = call("POST", "/enrich", body={"email": ADDRESS}, workspace=WS)
    assert status == 200 and person["found"] and person["last_name"].lower() == "van der berg", person


def check_the_buffer_after_the_erasure() -> None:
    """His leads and cursor gone, his company's lead without him; a push of him is refused as suppressed,
    and a retry of the run he was served to gets the next lead, never him."""
    status, page, _ = call("GET", "/leads", query={"namespace": NS}, workspace=WS)
    assert status == 200 and [lead["domain"] for lead in page["leads"]] == ["brightlane.co.uk"]
    assert traces(json.dumps(page)) == [] and ADDRESS not in json.dumps(page)
    assert call("GET", f"/cursor/{NS}", workspace=WS)[1]["state"] is None
    status, pushed, _ = call("POST", "/buffer/push", body={"namespace": NS, "leads": [PIETER]}, workspace=WS)
    assert pushed["skipped_suppressed"] == 1
    status, retried, _ = call(
        "POST", "/buffer/next", body={"namespace": NS, "parent_run_id": "run-1"}, workspace=WS
    )
    assert status == 200 and retried == {"found": False}  # nothing of his left to serve
    status, other, _ = call("GET", "/leads", query={"namespace": NS}, workspace=OTHER)
    assert len(other["leads"]) == 1  # the bystander's: his own lead is withheld (suppressed service-wide)


def erase() -> dict[str, Any]:
    status, receipt, _ = call("POST", "/erasures", body={"email": ADDRESS.upper()}, workspace=WS)
    assert status == 201, receipt
    assert receipt["target"] == "p***@brightlane.co.uk" and traces(json.dumps(receipt)) == []
    keys = {s["key"] for s in receipt["suppressed"]}
    assert keys == {
        email_identity(ADDRESS).key,
        person_identity("Pieter", "van der Berg", "brightlane.co.uk").key,
    }
    answer: dict[str, Any] = receipt
    return answer


def check_the_audit_entry(receipt: dict[str, Any]) -> None:
    status, audit, _ = call("GET", "/audit", query={"action": "erasure.create"}, workspace=WS)
    assert status == 200
    [entry] = audit["entries"]
    assert entry["target"] == email_identity(ADDRESS).key
    assert entry["detail"]["erasure_id"] == receipt["erasure_id"] and traces(json.dumps(entry)) == []


def check_a_new_job_finds_nothing_of_him(simulator: SimulatorServer) -> None:
    """Suppressed in every workspace: a new job for him returns nothing of him and pays no provider for
    him (no Email Finder call at all: the lead's person is suppressed before it; no verification of his
    address, which is never a candidate again)."""
    simulator.ledger.reset()
    for workspace in (WS, OTHER):
        [item] = enrich(workspace, [PIETER])
        assert ADDRESS not in addresses([item]), item
    assert simulator.ledger.calls("hunter.email_finder") == 0
    assert not simulator.ledger.already_charged(("email_verifier", simulator.state.billing_period(), ADDRESS))


def test_an_erasure_on_dynamodb_leaves_nothing_of_the_person_but_the_suppression_and_the_audit_entry(
    simulator: SimulatorServer,
) -> None:
    enrich_the_world()
    buffer_the_world()

    receipt = erase()

    places = {p["place"]: (p["removed"], p["changed"]) for p in receipt["places"]}
    assert set(places) == {"job_items", "cache", "webhooks", "buffer"}
    assert places["job_items"] == (0, 2) and places["cache"][0] > 0
    assert places["buffer"] == (3, 1)  # his lead, his address waiting, his cursor; his company's rewritten
    kept = []
    for row in dynamo_rows():
        text = json.dumps(row)
        if row["PK"]["S"].startswith(f"WS#{OTHER}#"):
            kept += traces(text)  # another workspace's data: untouched
        else:
            assert traces(text) == [], row
    assert "vanderberg" in kept
    suppressed = [r for r in dynamo_rows() if r["PK"]["S"].startswith("SUPPRESS#")]
    assert {r["SK"]["S"] for r in suppressed} >= {s["key"] for s in receipt["suppressed"]}
    check_the_buffer_after_the_erasure()
    check_the_audit_entry(receipt)
    status, again, _ = call("POST", "/erasures", body={"email": ADDRESS}, workspace=WS)
    assert status == 200 and again["new_suppressions"] == 0
    check_a_new_job_finds_nothing_of_him(simulator)


def test_an_erasure_on_supabase_leaves_nothing_of_the_person_in_any_table(
    simulator: SimulatorServer, supabase_db: SupabaseTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    supabase(supabase_db, monkeypatch)
    enrich_the_world()
    buffer_the_world()
    assert supabase_db.scalar(f"select count(*) from public.emails where email = '{ADDRESS}'") == 3

    receipt = erase()

    places = {p["place"]: (p["removed"], p["changed"]) for p in receipt["places"]}
    assert places["job_items"] == (0, 2) and places["supabase.leads"] == (0, 1)
    assert places["buffer"] == (3, 1) and "buffer" not in {p["place"] for p in receipt["places"][:3]}
    assert places["supabase.emails"] == (2, 0)  # his lead's and the company lead's row of his address
    for table, rows in supabase_rows(supabase_db).items():
        for row in rows:
            text = json.dumps(row, default=str)
            if row.get("workspace_id") == OTHER:
                continue  # another workspace's: untouched (checked below)
            assert traces(text) == [], (table, row)
    other = supabase_db.query(f"select email from public.emails where workspace_id = '{OTHER}'")
    assert {r["email"] for r in other} >= {ADDRESS}
    assert (
        supabase_db.scalar(f"select last_name from public.leads where workspace_id = '{OTHER}'")
        == "van der Berg"
    )
    for row in dynamo_rows():
        assert traces(json.dumps(row)) == [], row  # the cache and the lists: nothing in clear
    check_the_buffer_after_the_erasure()
    check_the_audit_entry(receipt)
    check_a_new_job_finds_nothing_of_him(simulator)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"email": ADDRESS, "domain": "brightlane.co.uk"}, "body.domain"),
        ({"email": ADDRESS, "external_id": "crm-pv"}, "body.external_id"),
        ({"email": "pieter at brightlane"}, "body.email"),
        ({"email": ""}, "body.email"),
        ({"domain": "not a domain"}, "body.domain"),
        ({"lead_id": "lead-7"}, "body.lead_id"),
        ({"lead_id": "7d6c3f7e-0b7e-4c7e-9a51-2f0e8c1a4b10"}, "body.lead_id"),  # no Supabase configured
        ({"external_id": "x" * 257}, "body.external_id"),
        ({"email": ADDRESS, "names": "Pieter"}, "body.names"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    status, answer, _ = call("POST", "/erasures", body=body, workspace=WS)
    assert (status, answer["field"]) == (422, field), answer
    assert ADDRESS not in json.dumps(answer)


def test_a_workspace_cannot_erase_another_workspaces_data() -> None:
    enrich(OTHER, [PIETER])
    status, receipt, _ = call("POST", "/erasures", body={"email": ADDRESS}, workspace=WS)
    assert status == 201
    assert {p["place"]: p["changed"] for p in receipt["places"]}["job_items"] == 0
    status, jobs, _ = call("GET", "/jobs", workspace=OTHER)
    job_id = jobs["jobs"][0]["job_id"]
    stored = asyncio.run(runtime.job_service().list_items(OTHER, job_id)).items
    assert ADDRESS in str([i.result for i in stored])  # the bystander's data is its own: not erased
    # but the person is on the service-wide list now, so no read returns it (privacy/withholding.py)
    status, page, _ = call("GET", f"/jobs/{job_id}/items", workspace=OTHER)
    assert status == 200 and ADDRESS not in addresses(page["items"]) and page["items"][0]["withheld"] == 1
