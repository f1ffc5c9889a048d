"""The retention purge on the real PostgreSQL + PostgREST (migration 0008's `purge_expired`, through the
adapter the processor uses): rows older than their workspace's period disappear, newer ones stay, active
addresses and running jobs are never touched, batches say when more is left, and only the service role may
call it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.jobs.ports import LeadStoreError
from leadenrich.jobs.retention import RetentionPolicy
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.supabase.retention import SupabaseRetentionPurge
from tests.support.supabase import WORKSPACE_A, WORKSPACE_B
from tests.support.supabase_recording import RecordingConnect

# Workspace B keeps unverified addresses 60 days and results a year; A has the defaults (30 and 90).
POLICY = RetentionPolicy(
    {WORKSPACE_B: WorkspaceSettings(unverified_retention_days=60, results_retention_days=365)}
)


@pytest.fixture
async def connect(supabase_db: SupabaseTestServer) -> AsyncIterator[RecordingConnect]:
    recording = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    yield recording
    await recording.aclose()


def lead(db: SupabaseTestServer, workspace: str) -> str:
    lead_id = str(uuid.uuid4())
    db.sql(
        "insert into leads (id, workspace_id, company_name, domain)"
        f" values ('{lead_id}', '{workspace}', 'Acme', 'acme-{lead_id[:8]}.com')"
    )
    return lead_id


def email(db: SupabaseTestServer, workspace: str, address: str, status: str, age_days: int) -> None:
    """An address last changed `age_days` ago (an insert keeps the given times: the trigger is on update)."""
    hunter = "'deliverable'" if status == "active" else "null"
    db.sql(
        "insert into emails (workspace_id, lead_id, email, source, email_type, status, hunter_status,"
        " created_at, updated_at)"
        f" values ('{workspace}', '{lead(db, workspace)}', '{address}', 'hunter_direct', 'secondary',"
        f" '{status}', {hunter}, now() - interval '{age_days + 1} days', now() - interval '{age_days} days')"
    )


def job(db: SupabaseTestServer, workspace: str, job_id: str, status: str, age_days: int) -> None:
    completed = f"now() - interval '{age_days} days'" if status == "completed" else "null"
    db.sql(
        "insert into jobs (workspace_id, job_id, status, created_at, updated_at, completed_at)"
        f" values ('{workspace}', '{job_id}', '{status}', now() - interval '{age_days + 1} days',"
        f" now() - interval '{age_days} days', {completed})"
    )


def item(
    db: SupabaseTestServer, workspace: str, job_id: str, item_id: str, status: str, age_days: int
) -> None:
    db.sql(
        "insert into job_items (workspace_id, job_id, item_id, lead, status, created_at, updated_at)"
        f" values ('{workspace}', '{job_id}', '{item_id}', '{{\"domain\": \"acme.com\"}}', '{status}',"
        f" now() - interval '{age_days + 1} days', now() - interval '{age_days} days')"
    )


def left(db: SupabaseTestServer, select: str) -> list[str]:
    return [str(row["k"]) for row in db.query(select)]


async def test_rows_past_their_workspace_s_period_go_and_the_rest_stay(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    db = supabase_db
    email(db, WORKSPACE_A, "old-unverified@a.com", "inactive", 40)  # A: 30 days
    email(db, WORKSPACE_A, "new-unverified@a.com", "inactive", 10)
    email(db, WORKSPACE_A, "old-verified@a.com", "active", 400)  # verified: the customer's, kept
    email(db, WORKSPACE_B, "b-40@b.com", "inactive", 40)  # B: 60 days
    email(db, WORKSPACE_B, "b-70@b.com", "inactive", 70)

    job(db, WORKSPACE_A, "a-old", "completed", 100)  # A: 90 days
    item(db, WORKSPACE_A, "a-old", "000000", "found", 100)
    item(db, WORKSPACE_A, "a-old", "000001", "not_found", 100)
    job(db, WORKSPACE_A, "a-new", "completed", 10)
    item(db, WORKSPACE_A, "a-new", "000000", "found", 10)
    job(db, WORKSPACE_A, "a-cancelled", "cancelled", 95)
    item(db, WORKSPACE_A, "a-cancelled", "000000", "queued", 200)  # never ran: goes with its job
    job(db, WORKSPACE_A, "a-running", "running", 1)
    item(db, WORKSPACE_A, "a-running", "000000", "found", 100)  # finished long ago: goes
    item(db, WORKSPACE_A, "a-running", "000001", "queued", 200)  # not finished: stays
    job(db, WORKSPACE_A, "a-paused", "paused", 300)
    item(db, WORKSPACE_A, "a-paused", "000000", "deferred", 300)
    job(db, WORKSPACE_B, "b-old", "completed", 100)  # B: a year
    item(db, WORKSPACE_B, "b-old", "000000", "found", 100)

    report = await SupabaseRetentionPurge(connect).purge(datetime.now(UTC), POLICY, batch=100)

    assert report.deleted == {"emails": 2, "job_items": 4, "jobs": 2} and not report.more
    assert left(db, "select email as k from emails order by 1") == [
        "b-40@b.com",
        "new-unverified@a.com",
        "old-verified@a.com",
    ]
    assert left(db, "select job_id as k from jobs order by 1") == ["a-new", "a-paused", "a-running", "b-old"]
    assert left(db, "select job_id || '/' || item_id as k from job_items order by 1") == [
        "a-new/000000",
        "a-paused/000000",
        "a-running/000001",
        "b-old/000000",
    ]
    assert len(connect.calls("purge_expired")) == 1

    again = await SupabaseRetentionPurge(connect).purge(datetime.now(UTC), POLICY, batch=100)
    assert again.deleted == {"emails": 0, "job_items": 0, "jobs": 0}


async def test_a_batch_says_when_more_is_left(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    for n in range(5):
        email(supabase_db, WORKSPACE_A, f"old-{n}@a.com", "inactive", 31)
    purge = SupabaseRetentionPurge(connect)
    reports = [await purge.purge(datetime.now(UTC), RetentionPolicy(), batch=2) for _ in range(3)]
    assert [(r.deleted["emails"], r.more) for r in reports] == [(2, True), (2, True), (1, False)]
    assert supabase_db.scalar("select count(*) from emails") == 0


async def test_the_time_given_is_the_one_counted_from(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    """The processor passes its own clock: a row is old relative to it, not to the database's."""
    email(supabase_db, WORKSPACE_A, "fresh@a.com", "inactive", 0)
    purge = SupabaseRetentionPurge(connect)
    now = datetime.now(UTC)
    assert (await purge.purge(now, RetentionPolicy(), batch=10)).deleted["emails"] == 0
    assert (await purge.purge(now + timedelta(days=31), RetentionPolicy(), batch=10)).deleted["emails"] == 1


async def test_bad_arguments_are_refused_by_name(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    bad = RetentionPolicy({WORKSPACE_A: WorkspaceSettings(results_retention_days=0)})
    with pytest.raises(LeadStoreError, match="retention: each period is a whole number of days"):
        await SupabaseRetentionPurge(connect).purge(datetime.now(UTC), bad, batch=10)


async def test_only_the_service_role_may_purge(supabase_db: SupabaseTestServer) -> None:
    callers = {
        "anon": {"apikey": supabase_db.anon_key},
        "authenticated": {
            "apikey": supabase_db.anon_key,
            "Authorization": f"Bearer {supabase_db.user_token(WORKSPACE_A)}",
        },
    }
    async with httpx.AsyncClient(base_url=supabase_db.rest_url) as http:
        for role, headers in callers.items():
            response = await http.post(
                "/rpc/purge_expired", json={"p_now": "2030-01-01T00:00:00Z"}, headers=headers
            )
            assert response.status_code in (401, 403), role
            assert response.json()["code"] == "42501", role
