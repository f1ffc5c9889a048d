"""Enrichment on creation on Supabase (PostgreSQL + PostgREST), through the Lambda handlers with DynamoDB
and SQS on moto and providers on the simulator (docs/auto-enrichment.md, migration 0017).

Given `POST /leads`, the leads are stored in `leads` (matched as POST /jobs' inline leads) and the new ones
put in one job, each row `pending` in it; a duplicate in a job already, or enriched within the window, is
not enqueued again. Given leads inserted into `leads` of an opted-in workspace, the trigger marks them
pending and the processor's run puts them in a job once: a lead inserted twice, or claimed by two
processors at once, is enqueued once; the runtime's own registrations are never marked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.jobs.models import DEFAULT_WORKSPACE
from leadenrich.supabase.lead_intake import SupabaseLeadIntake
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.simulator import base_config
from tests.support.supabase_recording import RecordingConnect

FOUND = SHOWCASE_DOMAINS[0]  # has a verified address in the simulator's world
OTHER = "other-workspace"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def stack(
    simulator: SimulatorServer,
    supabase_db: SupabaseTestServer,
    mocked_aws: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SupabaseTestServer]:
    monkeypatch.delenv("JOB_STORE", raising=False)
    lambda_env_on_moto(simulator, monkeypatch, supabase_db.env())
    yield supabase_db
    runtime.reset()


def rows(db: SupabaseTestServer, where: str = "true") -> list[dict[str, Any]]:
    return db.query(
        "select id::text, domain, first_name, enrichment_status, enrichment_job_id, enrichment_outcome,"
        " enrichment_error, enriched_at is not null as enriched"
        f" from leads where {where} order by created_at, id"
    )


def insert(db: SupabaseTestServer, domain: str, workspace: str = DEFAULT_WORKSPACE, **extra: str) -> str:
    """A lead inserted as an application would (not the code under test)."""
    lead_id = str(uuid.uuid4())
    names = "".join(f", {name}" for name in extra)
    values = "".join(f", '{value}'" for value in extra.values())
    db.sql(
        f"insert into leads (id, workspace_id, company_name, domain{names})"
        f" values ('{lead_id}', '{workspace}', '{domain}', '{domain}'{values})"
    )
    return lead_id


def opt_in(db: SupabaseTestServer, workspace: str = DEFAULT_WORKSPACE) -> None:
    db.sql(f"insert into lead_auto_enrichment (workspace_id) values ('{workspace}')")


def run_processor() -> dict[str, Any]:
    summary: dict[str, Any] = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    return summary


def items_of(job_id: str) -> list[dict[str, Any]]:
    status, page, _ = call("GET", f"/jobs/{job_id}/items")
    assert status == 200, page
    return list(page["items"])


def test_post_leads_stores_enqueues_the_new_once_and_records_each_lead_s_enrichment(
    stack: SupabaseTestServer,
) -> None:
    stored = insert(stack, "globex-analytics.io", first_name="Grace")  # not opted in: never marked
    leads = [
        {"domain": f"https://www.{FOUND}/", "external_id": "crm-1"},
        {"domain": "globex-analytics.io", "first_name": "grace"},  # the stored lead
        {"domain": FOUND, "external_id": "crm-1"},  # the first one again
    ]
    status, first, headers = call("POST", "/leads", body={"leads": leads})

    assert status == 202 and headers["Location"] == f"/jobs/{first['job_id']}"
    outcomes = [(o["outcome"], o["enqueued"], o["reason"]) for o in first["leads"]]
    assert outcomes == [("created", True, None), ("duplicate", True, None), ("duplicate", False, "repeated")]
    new_id = first["leads"][0]["lead_id"]
    assert first["leads"][1]["lead_id"] == stored and first["leads"][2]["lead_id"] == new_id
    assert sorted(item["lead_id"] for item in items_of(first["job_id"])) == sorted([new_id, stored])
    by_id = {row["id"]: row for row in rows(stack)}
    assert len(by_id) == 2 and by_id[new_id]["domain"] == FOUND  # stored as the engine normalises it
    assert {row["enrichment_status"] for row in by_id.values()} == {"pending"}
    assert {row["enrichment_job_id"] for row in by_id.values()} == {first["job_id"]}

    # Posted again while its job is pending: a duplicate, not enqueued; no job is made for nothing.
    status, again, headers = call("POST", "/leads", body={"lead": leads[0]})
    assert status == 202 and again["job_id"] is None and "Location" not in headers
    assert again["leads"] == [
        {"index": 0, "lead_id": new_id, "outcome": "duplicate", "enqueued": False, "reason": "pending"}
    ]

    summary = run_processor()
    assert summary["completed_jobs"] == [first["job_id"]]
    finished = {row["id"]: row for row in rows(stack)}
    assert finished[new_id]["enrichment_status"] == "completed" and finished[new_id]["enriched"]
    assert finished[new_id]["enrichment_outcome"] == "found"

    # Enriched within the workspace's window (30 days): not again. Past it: enqueued.
    status, recent, _ = call("POST", "/leads", body={"lead": leads[0]})
    assert recent["leads"][0]["reason"] == "recent" and recent["job_id"] is None
    stack.sql(f"update leads set enriched_at = now() - interval '40 days' where id = '{new_id}'")
    _, due, _ = call("POST", "/leads", body={"lead": leads[0]})
    assert due["leads"][0]["enqueued"] is True and due["job_id"] is not None
    assert run_processor()["received"] == 1  # the sweep added nothing: no workspace opted in


def test_a_replayed_key_answers_the_first_job_and_claims_nothing(stack: SupabaseTestServer) -> None:
    body = {"leads": [{"domain": "initech.example"}, {"domain": "umbrella.example"}]}
    _, first, _ = call("POST", "/leads", body=body, headers={"idempotency-key": "k-1"})
    status, replay, headers = call("POST", "/leads", body=body, headers={"idempotency-key": "k-1"})

    assert status == 202 and replay["job_id"] == first["job_id"] and headers["Idempotent-Replayed"] == "true"
    assert {row["enrichment_job_id"] for row in rows(stack)} == {first["job_id"]}  # still the first's
    refused, answer, _ = call(
        "POST", "/leads", body={"lead": {"domain": "x.example"}}, headers={"idempotency-key": "k-1"}
    )
    assert refused == 422 and answer["field"] == "header.idempotency-key"


def test_a_refused_job_gives_its_claims_back(
    stack: SupabaseTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "1")
    runtime.reset()
    status, _, _ = call(
        "POST", "/leads", body={"leads": [{"domain": "initech.example"}, {"domain": "acme.example"}]}
    )

    assert status == 429
    assert {(row["enrichment_status"], row["enrichment_job_id"]) for row in rows(stack)} == {(None, None)}
    _, later, _ = call("POST", "/leads", body={"lead": {"domain": "initech.example"}})
    assert later["leads"][0]["outcome"] == "duplicate" and later["leads"][0]["enqueued"] is True


def test_inserted_leads_are_enqueued_once_by_the_processor_and_registrations_are_not_marked(
    stack: SupabaseTestServer,
) -> None:
    opt_in(stack)
    first = insert(stack, FOUND, first_name="Ada")
    twice = insert(stack, FOUND.upper(), first_name="ADA")  # the same lead, inserted again
    company = insert(stack, "initech.example")
    elsewhere = insert(stack, "umbrella.example", workspace=OTHER)  # a workspace that did not opt in
    assert [row["enrichment_status"] for row in rows(stack)] == ["pending", "pending", "pending", None]
    status, job, _ = call("POST", "/jobs", body={"leads": [{"domain": "hooli.example"}]})  # register_leads
    assert status == 202
    [registered] = rows(stack, "domain = 'hooli.example'")
    assert registered["enrichment_status"] is None  # POST /jobs enqueued it itself: not marked

    summary = run_processor()

    _, auto_jobs, _ = call("GET", "/jobs", query={"tag": "auto-enrich"})
    [auto] = auto_jobs["jobs"]
    assert sorted(item["lead_id"] for item in items_of(auto["job_id"])) == sorted([first, company])
    assert sorted(summary["completed_jobs"]) == sorted([auto["job_id"], job["job_id"]])
    by_id = {row["id"]: row for row in rows(stack)}
    assert by_id[first]["enrichment_status"] == "completed" and by_id[first]["enrichment_outcome"] == "found"
    assert by_id[first]["enrichment_job_id"] == auto["job_id"]
    assert by_id[twice]["enrichment_status"] is None and first in by_id[twice]["enrichment_error"]
    assert by_id[elsewhere]["enrichment_status"] is None

    run_processor()  # nothing pending: no second job
    _, again, _ = call("GET", "/jobs", query={"tag": "auto-enrich"})
    assert [j["job_id"] for j in again["jobs"]] == [auto["job_id"]]


async def test_two_processors_claiming_at_once_take_each_lead_once(supabase_db: SupabaseTestServer) -> None:
    opt_in(supabase_db)
    inserted = {insert(supabase_db, f"company-{n}.example") for n in range(40)}
    connect = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    store = SupabaseLeadIntake(connect)
    try:
        claims = await asyncio.gather(*(store.claim(DEFAULT_WORKSPACE, f"job_{n}", 15, 30) for n in range(4)))
        assert await store.pending_workspaces(10) == []  # all 40 claimed (4 x 15 asked)
        assert await store.release(DEFAULT_WORKSPACE, "job_0", requeue=True) == len(claims[0])
        assert await store.pending_workspaces(10) == ([DEFAULT_WORKSPACE] if claims[0] else [])
    finally:
        await connect.aclose()
    taken = [lead.lead_id for claim in claims for lead in claim]
    assert len(taken) == len(set(taken)) == 40 and set(taken) == inserted


def test_a_sweep_that_cannot_make_its_job_leaves_the_leads_pending_and_the_run_goes_on(
    stack: SupabaseTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    opt_in(stack)
    inserted = {insert(stack, "initech.example"), insert(stack, "umbrella.example")}
    monkeypatch.setenv("DAILY_LEAD_QUOTA", "1")  # the job of two would pass it
    runtime.reset()

    assert run_processor()["received"] == 0  # the run went on: nothing to drain
    assert {(r["id"], r["enrichment_status"], r["enrichment_job_id"]) for r in rows(stack)} == {
        (lead, "pending", None) for lead in inserted
    }

    monkeypatch.setenv("DAILY_LEAD_QUOTA", "10")
    runtime.reset()
    assert run_processor()["received"] == 2  # the next run takes them
