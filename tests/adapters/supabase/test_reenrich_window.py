"""The nightly cost leak's end, through the Lambda handlers on Supabase (PostgreSQL + PostgREST), DynamoDB
and SQS on moto, providers on the simulator (docs/auto-enrichment.md).

Given stored leads, when a process_all job is drained, then each lead's `leads` row holds its enrichment
record (seed 002's fields); and a later process_all (the nightly `--all`) leaves out, and counts, the leads
whose last enrichment ended invalid, not_found or risky within the workspace's `reenrich_after_days`,
unless `force` is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import handle_process
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich import runtime
from leadenrich.buffer.models import EnrichmentStatus
from leadenrich.jobs.lead_records import LeadEnrichmentWrite
from leadenrich.jobs.models import DEFAULT_WORKSPACE
from leadenrich.supabase.lead_enrichment import SupabaseLeadEnrichment
from tests.support.lambda_env import lambda_env_on_moto
from tests.support.lambda_events import SCHEDULED_EVENT, Context, call
from tests.support.simulator import base_config
from tests.support.supabase_recording import RecordingConnect

FOUND = SHOWCASE_DOMAINS[0]  # has a verified address in the simulator's world
WEBMAIL = "gmail.com"  # ends `invalid` without a paid call


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


def seed(db: SupabaseTestServer, domain: str, *, outcome: str | None = None, days_ago: int = 0) -> str:
    """A lead through SQL, optionally with a past enrichment record (not the code under test)."""
    lead_id = str(uuid.uuid4())
    record = (
        f"'completed', '{outcome}', now() - interval '{days_ago} days'" if outcome else "null, null, null"
    )
    db.sql(
        "insert into leads (id, workspace_id, company_name, domain, enrichment_status, enrichment_outcome,"
        f" enriched_at) values ('{lead_id}', '{DEFAULT_WORKSPACE}', '{domain}', '{domain}', {record})"
    )
    return lead_id


def record_of(db: SupabaseTestServer, lead_id: str) -> dict[str, Any]:
    [row] = db.query(
        "select enrichment_status, enrichment_outcome, enriched_at is not null as enriched, enrichment_error,"
        f" sources_used, sources_failed from leads where id = '{lead_id}'"
    )
    return row


def process_all(**options: Any) -> dict[str, Any]:
    status, answer, _ = call("POST", "/jobs", body={"process_all": True, **options})
    assert status in (200, 202), answer
    return dict(answer)


def test_a_drained_item_writes_its_lead_s_record_and_the_next_all_skips_the_unresolved_ones(
    stack: SupabaseTestServer,
) -> None:
    found = seed(stack, FOUND)
    webmail = seed(stack, WEBMAIL)
    recent_risky = seed(stack, "recent-risky.example", outcome="risky", days_ago=3)

    first = process_all()
    assert first["counters"]["total"] == 2 and first["selection"]["skipped_recent"] == 1  # the risky one
    summary: dict[str, Any] = handle_process.handler(SCHEDULED_EVENT, Context())  # type: ignore[arg-type]
    assert summary["completed_jobs"] == [first["job_id"]]

    assert record_of(stack, found) == {
        "enrichment_status": "completed",
        "enrichment_outcome": "found",
        "enriched": True,
        "enrichment_error": None,
        "sources_used": ["hunter"],
        "sources_failed": [],
    }
    invalid = record_of(stack, webmail)
    assert invalid["enrichment_status"] == "completed" and invalid["enrichment_outcome"] == "invalid"
    assert invalid["sources_used"] == [] and invalid["enriched"]  # no provider asked: nothing paid
    assert record_of(stack, recent_risky)["enrichment_outcome"] == "risky"  # untouched: not in the job
    stale = seed(stack, "stale-not-found.example", outcome="not_found", days_ago=40)

    # The nightly run: the found lead has an active email, the webmail and the risky lead ended within
    # the window; only what is due is taken, and the rest is counted.
    dry = process_all(dry_run=True)
    assert (dry["leads"], dry["skipped_existing"], dry["skipped_recent"]) == (1, 1, 2)
    nightly = process_all()
    assert nightly["counters"]["total"] == 1 and nightly["selection"]["skipped_recent"] == 2
    _, items, _ = call("GET", f"/jobs/{nightly['job_id']}/items")
    assert [item["lead_id"] for item in items["items"]] == [stale]  # its 40 days are past the 30

    forced = process_all(force=True)
    assert forced["counters"]["total"] == 3 and forced["selection"]["skipped_recent"] == 0
    assert process_all(force=True, dry_run=True)["skipped_recent"] == 0

    # A longer window (a workspace setting) holds the 40-day-old lead back too.
    status, _, _ = call("PUT", "/settings", body={"reenrich_after_days": 60})
    assert status == 200
    longer = process_all(dry_run=True)
    assert (longer["leads"], longer["skipped_recent"]) == (0, 3)


def test_force_is_refused_without_process_all(stack: SupabaseTestServer) -> None:
    status, refused, _ = call("POST", "/jobs", body={"domains": ["acme.com"], "force": True})
    assert status == 422 and refused["field"] == "body.force"


async def test_a_record_never_replaces_a_newer_one(supabase_db: SupabaseTestServer) -> None:
    lead = seed(supabase_db, "acme-robotics.com")
    connect = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    sink = SupabaseLeadEnrichment(connect)
    now = datetime.now(UTC)
    newer = LeadEnrichmentWrite(
        DEFAULT_WORKSPACE, lead, EnrichmentStatus.COMPLETED, "not_found", now, sources_used=("hunter",)
    )
    older = LeadEnrichmentWrite(
        DEFAULT_WORKSPACE,
        lead,
        EnrichmentStatus.FAILED,
        "failed",
        now - timedelta(hours=1),
        error="hunter: key refused",
        sources_failed=("hunter",),
    )
    other_workspace = LeadEnrichmentWrite("ws-b", lead, EnrichmentStatus.COMPLETED, "found", now)
    try:
        assert await sink.record([newer]) == 1
        assert await sink.record([newer]) == 1  # the same record again: idempotent
        assert await sink.record([older, other_workspace]) == 0  # a late retry, and another workspace's
    finally:
        await connect.aclose()
    assert record_of(supabase_db, lead) == {
        "enrichment_status": "completed",
        "enrichment_outcome": "not_found",
        "enriched": True,
        "enrichment_error": None,
        "sources_used": ["hunter"],
        "sources_failed": [],
    }
