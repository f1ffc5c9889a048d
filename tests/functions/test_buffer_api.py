"""The lead buffer and `POST /enrich` through the API Lambda (real events; DynamoDB and SQS on moto; the
provider simulator over real HTTP), every answer held to docs/openapi.json (`openapi_conformance`).

Given leads pushed into a namespace, each `next` serves a different one, enriched with what the processor
enriches with, a retried run gets its lead back for free, suppressed people are never served or stored,
what cannot be enriched in time is served deferred rather than failing, and served leads, cursors and
person look-ups read back as documented, with bad input refused naming its field."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from enrich_tools.simulator import SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.aws.dynamo_buffer import DynamoLeadBuffer
from leadenrich.buffer.enrichment import NO_PROVIDER
from leadenrich.jobs.budget import Spend, month_scope, utc_month
from leadenrich.privacy.identity import email_identity
from leadenrich.sqlite.buffer import SqliteLeadBuffer
from leadenrich.supabase.buffer import SupabaseLeadBuffer
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

NS = "campaign-1"
CEO = "sarah.obrien@acme-robotics.com"  # indexed by the simulated Hunter, at a showcase company


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def api(
    simulator: SimulatorServer, mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimulatorServer]:
    lambda_env_on_moto(simulator, monkeypatch)
    yield simulator
    runtime.reset()


def push(leads: list[dict[str, Any]], namespace: str = NS, workspace: str = "default") -> dict[str, Any]:
    status, body, _ = call(
        "POST", "/buffer/push", workspace=workspace, body={"namespace": namespace, "leads": leads}
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def serve(run: str | None = None, namespace: str = NS) -> dict[str, Any]:
    request: dict[str, Any] = {"namespace": namespace} | ({"parent_run_id": run} if run else {})
    status, body, _ = call("POST", "/buffer/next", body=request)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def paid_calls(sim: SimulatorServer) -> int:
    return sum(sim.ledger.calls(endpoint) for endpoint in ("hunter.domain_search", "hunter.email_verifier"))


# --- push and next ---------------------------------------------------------------------------------------


def test_each_call_serves_a_different_lead_enriched_and_a_retried_run_pays_nothing(
    api: SimulatorServer,
) -> None:
    pushed = push(
        [
            {"domain": "acme-robotics.com", "company_name": "Acme Robotics", "data": {"list": "q3"}},
            {"domain": "brightlane.co.uk"},
            {"domain": "https://www.ACME-robotics.com/about"},  # the same company
        ]
    )
    assert pushed == {
        "buffered": 2,
        "skipped_already_served": 0,
        "skipped_already_buffered": 1,
        "skipped_suppressed": 0,
    }
    assert paid_calls(api) == 0  # pushing pays nothing

    first = serve("run-1")
    lead = first["lead"]
    assert first["found"] is True and lead["domain"] == "acme-robotics.com" and lead["data"] == {"list": "q3"}
    assert lead["state"] == "served" and lead["parent_run_id"] == "run-1"
    assert lead["enrichment_status"] == "completed" and lead["enrichment_outcome"] == "found"
    assert "hunter" in lead["sources_used"] and lead["sources_failed"] == []
    assert any(e["status"] == "active" and e["email"].endswith("@acme-robotics.com") for e in lead["emails"])
    spent = paid_calls(api)
    assert spent > 0

    retried = serve("run-1")
    assert retried == first and paid_calls(api) == spent  # the same lead, enriched already: nothing paid
    second = serve("run-2")
    assert second["lead"]["domain"] == "brightlane.co.uk" and second["lead"]["lead_id"] != lead["lead_id"]
    assert serve("run-3") == {"found": False}
    again = push([{"domain": "acme-robotics.com"}, {"domain": "brightlane.co.uk"}])
    assert again["skipped_already_served"] == 2 and again["buffered"] == 0


def test_a_pushed_address_is_verified_and_a_person_is_searched(api: SimulatorServer) -> None:
    push([{"email": CEO.upper(), "external_id": "crm-1"}])
    push([{"domain": "acme-robotics.com", "first_name": "Daniel", "last_name": "Kim"}], namespace="people")
    address = serve()["lead"]
    assert (address["email"], address["domain"], address["external_id"]) == (
        CEO,
        "acme-robotics.com",
        "crm-1",
    )
    assert [e["email"] for e in address["emails"]] == [CEO] and api.ledger.calls("hunter.email_verifier") == 1
    assert api.ledger.calls("hunter.domain_search") == 0  # an address is verified, not searched for
    person = serve(namespace="people")["lead"]
    assert person["emails"][0]["email"] == "daniel.kim@acme-robotics.com"
    assert person["emails"][0]["contact"] == "named_person"


def test_suppressed_people_are_never_stored_nor_served(api: SimulatorServer) -> None:
    push([{"domain": "acme-robotics.com"}, {"domain": "brightlane.co.uk"}])
    status, _, _ = call("POST", "/suppressions", body={"entries": [{"domain": "acme-robotics.com"}]})
    assert status == 200
    served = serve("run-1")
    assert served["lead"]["domain"] == "brightlane.co.uk"  # acme was dropped when claimed, never served
    assert serve() == {"found": False}
    call("POST", "/suppressions", body={"entries": [{"domain": "brightlane.co.uk"}]})
    assert serve("run-1") == {"found": False}  # the run's retry: suppressed since, not served again
    person = {"domain": "globex-analytics.io", "first_name": "Grace", "last_name": "Hopper"}
    call("POST", "/suppressions", body={"entries": [{"email": CEO}, {k: person[k] for k in person}]})
    pushed = push(
        [{"email": CEO}, person, {"domain": "acme-robotics.com"}, {"domain": "nordlicht-energie.de"}]
    )
    assert (pushed["buffered"], pushed["skipped_suppressed"]) == (1, 3)


def test_a_lead_that_cannot_be_enriched_in_time_is_served_deferred(api: SimulatorServer) -> None:
    api.configure(time_scale=1.0, latency_domain_search=[4.0, 4.0])
    runtime.buffer_service().enrich_seconds = 0.6  # the API's 20 s, scaled down
    push([{"domain": "acme-robotics.com"}])
    lead = serve("run-1")["lead"]
    assert lead["state"] == "served" and lead["enrichment_status"] == "deferred"
    assert lead["enrichment_outcome"] == "deferred" and lead["emails"] == []
    assert "time" in lead["enrichment_error"]
    api.configure(time_scale=0.0)
    runtime.buffer_service().enrich_seconds = 20.0
    retried = serve("run-1")["lead"]  # the run's retry finishes the enrichment
    assert retried["lead_id"] == lead["lead_id"] and retried["enrichment_status"] == "completed"
    assert retried["served_at"] == lead["served_at"]


def test_without_a_provider_leads_are_served_unenriched_and_enrich_is_501(
    api: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUNTER_API_KEY")
    runtime.reset()
    push([{"domain": "acme-robotics.com"}])
    lead = serve()["lead"]
    assert (lead["enrichment_status"], lead["enrichment_error"]) == ("deferred", NO_PROVIDER)
    status, body, _ = call("POST", "/enrich", body={"email": CEO})
    assert status == 501 and "HUNTER_API_KEY" in body["message"]


BAD_PUSHES: list[tuple[dict[str, Any], str]] = [
    ({"namespace": "bad/namespace", "leads": [{"domain": "acme.com"}]}, "body.namespace"),
    ({"namespace": NS, "leads": []}, "body.leads"),
    ({"namespace": NS, "leads": [{"domain": "acme.com"}] * 1001}, "body.leads"),
    ({"namespace": NS, "leads": [{"domain": "acme.com"}, {"domain": "not a domain"}]}, "body.leads.1.domain"),
    ({"namespace": NS, "leads": [{"company_name": "Acme"}]}, "body.leads.0.domain"),
    ({"namespace": NS, "leads": [{"domain": "gmail.com"}]}, "body.leads.0.domain"),
    ({"namespace": NS, "leads": [{"domain": "acme.com", "first_name": "Ada"}]}, "body.leads.0.last_name"),
    ({"namespace": NS, "leads": [{"email": "ada@acme.com", "domain": "globex.io"}]}, "body.leads.0.domain"),
    ({"namespace": NS, "leads": [{"email": "not-an-address"}]}, "body.leads.0.email"),
    ({"namespace": NS, "leads": [{"domain": "acme.com", "data": {"x": "y" * 5000}}]}, "body.leads.0.data"),
    ({"namespace": NS, "leads": [{"domain": "acme.com", "color": "red"}]}, "body.leads.0.color"),
]


def test_a_bad_push_or_next_is_a_422_naming_the_field_and_buffers_nothing(api: SimulatorServer) -> None:
    for request_body, field in BAD_PUSHES:
        status, body, _ = call("POST", "/buffer/push", body=request_body)
        assert status == 422 and body["field"] == field, (field, body)
    assert serve() == {"found": False}
    for request_body, field in (
        ({}, "body.namespace"),
        ({"namespace": NS, "parent_run_id": "run#1"}, "body.parent_run_id"),
        ({"namespace": NS, "extra": 1}, "body.extra"),
    ):
        status, body, _ = call("POST", "/buffer/next", body=request_body)
        assert status == 422 and body["field"] == field, body


# --- served leads, cursors --------------------------------------------------------------------------------


def test_served_leads_are_listed_with_their_enrichment_in_pages(
    api: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUNTER_API_KEY")  # served unenriched (deferred): the listing is under test here
    runtime.reset()
    push([{"domain": "acme-robotics.com"}, {"domain": "brightlane.co.uk"}, {"domain": "maison-dupont.fr"}])
    push([{"domain": "nordlicht-energie.de"}], namespace="other")
    served = [serve()["lead"]["domain"] for _ in range(3)] + [serve(namespace="other")["lead"]["domain"]]
    listed, cursor = [], None
    while True:
        status, page, _ = call(
            "GET", "/leads", query={"limit": "3", **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200
        listed += [lead["domain"] for lead in page["leads"]]
        if not (cursor := page["cursor"]):
            break
    assert listed == list(reversed(served))
    status, page, _ = call("GET", "/leads", query={"namespace": "other"})
    assert [lead["domain"] for lead in page["leads"]] == ["nordlicht-energie.de"]
    status, page, _ = call("GET", "/leads", query={"enrichment_status": "completed"})
    assert page["leads"] == []
    status, page, _ = call("GET", "/leads", query={"enrichment_status": "deferred", "limit": "1"})
    assert [lead["domain"] for lead in page["leads"]] == [served[-1]]
    assert call("GET", "/leads", workspace="someone-else")[1]["leads"] == []
    for query, field in (
        ({"cursor": "nope"}, "query.cursor"),
        ({"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, "query.until"),
        ({"enrichment_status": "done"}, "query.enrichment_status"),
        ({"namespace": "a b"}, "query.namespace"),
    ):
        status, body, _ = call("GET", "/leads", query=query)
        assert status == 422 and body["field"] == field, body


def test_a_namespaces_cursor_is_stored_and_read_back(api: SimulatorServer) -> None:
    assert call("GET", f"/cursor/{NS}")[1] == {"namespace": NS, "state": None, "updated_at": None}
    status, stored, _ = call("PUT", f"/cursor/{NS}", body={"state": {"page": 5, "offset": 100}})
    assert status == 200 and stored["state"] == {"page": 5, "offset": 100} and stored["updated_at"]
    assert call("GET", f"/cursor/{NS}")[1] == stored
    assert call("GET", f"/cursor/{NS}", workspace="someone-else")[1]["state"] is None
    status, body, _ = call("PUT", "/cursor/bad%20name", body={"state": {}})
    assert status == 422 and body["field"] == "path.namespace"
    status, body, _ = call("PUT", f"/cursor/{NS}", body={"state": {"x": "y" * 17_000}})
    assert status == 422 and body["field"] == "body.state"
    status, body, _ = call("PUT", f"/cursor/{NS}", body={"state": [1, 2]})
    assert status == 422 and body["field"] == "body.state"


# --- POST /enrich -------------------------------------------------------------------------------------------


def test_a_person_is_looked_up_once_and_then_answered_from_the_cache(api: SimulatorServer) -> None:
    status, first, _ = call("POST", "/enrich", body={"email": CEO.upper()})
    assert status == 200, first
    assert first["found"] is True and first["cached"] is False and first["email"] == CEO
    assert (first["first_name"], first["last_name"], first["title"]) == ("Sarah", "O'Brien", "CEO")
    assert first["company_domain"] == "acme-robotics.com"
    status, second, _ = call("POST", "/enrich", body={"email": CEO}, workspace="another-workspace")
    assert second == {**first, "cached": True}  # the global cache: another workspace pays nothing
    assert api.ledger.calls("hunter.people_find") == 1
    nobody = {"email": "nobody@acme-robotics.com"}
    assert call("POST", "/enrich", body=nobody)[1] == {
        "email": nobody["email"],
        "found": False,
        "cached": False,
    }
    assert call("POST", "/enrich", body=nobody)[1]["cached"] is True
    assert api.ledger.calls("hunter.people_find") == 2
    spent = asyncio.run(runtime.spend_caps().status("default")).spent.credits
    assert spent == 1.0  # one profile found, one search credit; the miss and the cached answers are free


def test_enrich_refuses_suppressed_spent_and_malformed_requests(api: SimulatorServer) -> None:
    call("POST", "/suppressions", body={"entries": [{"email": CEO}]})
    assert call("POST", "/enrich", body={"email": CEO})[1]["found"] is False
    assert api.ledger.calls("hunter.people_find") == 0  # a suppressed address is never asked about
    caps = runtime.spend_caps()
    asyncio.run(caps.set_monthly_credits("default", 1))
    asyncio.run(caps.ledger.add("default", [month_scope(utc_month(caps.clock()))], Spend(credits=1.0)))
    status, body, _ = call("POST", "/enrich", body={"email": "daniel.kim@acme-robotics.com"})
    assert status == 402 and "budget" in body["message"]
    status, body, _ = call("POST", "/enrich", body={"email": "not-an-address"})
    assert status == 422 and body["field"] == "body.email"


def test_a_throttled_provider_is_a_503_with_retry_after(api: SimulatorServer) -> None:
    api.configure(rate_limit_mode="429", email_finder_rps=1)
    assert call("POST", "/enrich", body={"email": CEO})[0] == 200
    status, body, headers = call("POST", "/enrich", body={"email": "daniel.kim@acme-robotics.com"})
    assert status == 503 and int(headers["Retry-After"]) >= 1 and "Hunter" in body["message"]


# --- the audit trail, and the stores each backend wires -----------------------------------------------------


def test_pushes_serves_reads_and_lookups_are_audited_without_personal_data(api: SimulatorServer) -> None:
    push([{"email": CEO}])
    lead_id = serve("run-1")["lead"]["lead_id"]
    call("GET", "/leads")
    call("POST", "/enrich", body={"email": CEO})
    call("PUT", f"/cursor/{NS}", body={"state": {"page": 1}})
    entries = {e["action"]: e for e in call("GET", "/audit")[1]["entries"]}
    assert entries["buffer.push"]["target"] == NS and entries["buffer.push"]["detail"]["buffered"] == 1
    assert entries["buffer.next"]["target"] == lead_id
    assert entries["buffer.next"]["detail"] == {"namespace": NS, "parent_run_id": "run-1", "found": True}
    assert entries["leads.read"]["detail"]["leads"] == 1
    assert entries["person.enrich"]["target"] == email_identity(CEO).key
    assert entries["cursor.put"]["target"] == NS
    assert CEO not in str(entries) and "obrien" not in str(entries).lower()


@pytest.mark.parametrize("backend", ["embedded", "dynamodb", "supabase"])
def test_the_runtime_wires_the_buffer_where_the_jobs_live(
    backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, mocked_aws: None
) -> None:
    env = {
        "embedded": {"BACKEND": "embedded", "STATE_DB": str(tmp_path / "state.sqlite3")},
        "dynamodb": {"TABLE_NAME": "t", "QUEUE_URL": "q", "DEAD_LETTER_QUEUE_URL": "d"},
        "supabase": {
            "TABLE_NAME": "t",
            "QUEUE_URL": "q",
            "DEAD_LETTER_QUEUE_URL": "d",
            "JOB_STORE": "supabase",
            "SUPABASE_URL": "http://127.0.0.1:9",
            "SUPABASE_SERVICE_ROLE_KEY": "k",
        },
    }[backend]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    try:
        wired = {"embedded": SqliteLeadBuffer, "dynamodb": DynamoLeadBuffer, "supabase": SupabaseLeadBuffer}
        assert isinstance(runtime.lead_buffer(), wired[backend])
    finally:
        runtime.reset()


def test_push_and_next_through_the_api_on_supabase(
    simulator: SimulatorServer,
    supabase_db: SupabaseTestServer,
    mocked_aws: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lambda_env_on_moto(simulator, monkeypatch, {**supabase_db.env(), "JOB_STORE": "supabase"})
    try:
        push([{"domain": "acme-robotics.com"}, {"domain": "brightlane.co.uk"}])
        first, retried = serve("run-1"), serve("run-1")
        assert retried == first and first["lead"]["enrichment_outcome"] == "found"
        assert serve("run-2")["lead"]["domain"] == "brightlane.co.uk"
        stored = supabase_db.query("select state, enrichment_status from buffer_leads order by lead_id")
        assert stored == [{"state": "served", "enrichment_status": "completed"}] * 2
    finally:
        runtime.reset()
