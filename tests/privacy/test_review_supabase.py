"""Contact approval and the lawful basis with Supabase as the email sink, through the Lambda handlers (real
events; DynamoDB and SQS on moto; the simulator; PostgreSQL + PostgREST), with the jobs in DynamoDB and in
Supabase (`JOB_STORE`).

Given a workspace with `review_required`, when its job's addresses are found, then none is in `emails`
until approved, an approved one is written with `review = 'approved'` and the job's lawful basis, and a
rejected one never is; without review every row carries the basis and no review state."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from enrich_tools.supabase_harness.postgres import apply_migrations
from leadenrich import runtime
from leadenrich.privacy.ports import WorkspaceSettings
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.openapi_conformance import openapi_conformance  # noqa: F401  # checks every answer
from tests.support.simulator import base_config

LEADS = [{"domain": "acme-robotics.com"}, {"domain": "brightlane.co.uk"}]  # an address each


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(params=["dynamodb", "supabase"])
def stack(
    request: pytest.FixtureRequest,
    simulator: SimulatorServer,
    supabase_db: SupabaseTestServer,
    mocked_aws: None,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SupabaseTestServer]:
    """The handlers with Supabase as lead source and email sink, the jobs where `JOB_STORE` says."""
    lambda_env_on_moto(simulator, monkeypatch, {**supabase_db.env(), "JOB_STORE": request.param})
    yield supabase_db
    runtime.reset()


def rows(db: SupabaseTestServer) -> list[dict[str, Any]]:
    return db.query(
        "select l.domain, e.email, e.lawful_basis, e.review from emails e join leads l on l.id = e.lead_id"
        " order by l.domain, e.email"
    )


def run_job(body: dict[str, Any]) -> str:
    status, job, _ = call("POST", "/jobs", body=body)
    assert status == 202, job
    summary = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["completed_jobs"] == [job["job_id"]]
    return str(job["job_id"])


def test_unapproved_addresses_stay_out_of_supabase_until_approved(stack: SupabaseTestServer) -> None:
    asyncio.run(runtime.workspace_settings().put("default", WorkspaceSettings(review_required=True)))
    job_id = run_job({"leads": LEADS, "lawful_basis": "consent"})

    assert rows(stack) == []  # found, and held
    status, page, _ = call("GET", "/contacts")
    assert status == 200 and len(page["contacts"]) == 2
    assert {c["job_id"] for c in page["contacts"]} == {job_id} and all(c["lead_id"] for c in page["contacts"])
    by_domain = {c["lead"]["domain"]: c for c in page["contacts"]}
    approve, reject = by_domain["acme-robotics.com"], by_domain["brightlane.co.uk"]

    assert call("POST", f"/contacts/{approve['contact_id']}/approve")[0] == 200
    assert call("POST", f"/contacts/{reject['contact_id']}/reject")[0] == 200
    written = [("acme-robotics.com", approve["email"]["email"], "consent", "approved")]
    assert [tuple(row.values()) for row in rows(stack)] == written
    assert call("POST", f"/contacts/{approve['contact_id']}/approve")[0] == 200  # again: the same row
    assert [tuple(row.values()) for row in rows(stack)] == written
    assert call("GET", "/contacts")[1]["contacts"] == []


def test_without_review_every_row_carries_the_jobs_lawful_basis(stack: SupabaseTestServer) -> None:
    run_job({"leads": LEADS, "lawful_basis": "contract"})
    written = rows(stack)
    assert len(written) >= 2 and {(row["lawful_basis"], row["review"]) for row in written} == {
        ("contract", None)
    }
    assert call("GET", "/contacts")[1]["contacts"] == []


def test_0009_applies_again_unchanged_and_its_review_functions_are_the_service_roles(
    supabase_server: SupabaseTestServer,
) -> None:
    """The review queue's functions are the job store's kind: SECURITY INVOKER with an empty search_path,
    executable by the service role only; applying every migration again changes none of them."""
    snapshot = (
        "select p.proname, pg_get_functiondef(p.oid) as def, p.proacl::text[] as acl, p.prosecdef"
        " from pg_proc as p where p.pronamespace = 'public'::regnamespace"
        " and (p.proname like 'contact\\_%' or p.proname in ('job_store_create_job', 'upsert_emails'))"
        " order by 1"
    )
    with supabase_server.scratch_database() as db:
        apply_migrations(db)
        first = db.query(snapshot)
        apply_migrations(db)
        assert db.query(snapshot) == first
        assert db.scalar("select count(*) from pg_indexes where indexname = 'idx_job_items_review'") == 1
    by_name = {f["proname"]: f for f in first}
    assert set(by_name) >= {"contact_review_queue", "contact_review_replace_result", "contact_email_privacy"}
    for name in ("contact_review_queue", "contact_review_replace_result"):
        assert by_name[name]["prosecdef"] is False
        assert {entry.split("=")[0] for entry in by_name[name]["acl"]} == {"postgres", "service_role"}
    for function in first:
        assert "SET search_path TO ''" in function["def"], function["proname"]
