"""A hard bounce's marks in Supabase on PostgreSQL + PostgREST (migration 0013_bounces): the workspace's
`emails` rows of the address marked undeliverable (what the deliverability check allows), its job items when
Supabase is the job store, each reported once as changed; another workspace's rows untouched; only the
service role may call the functions."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.bounces.models import BounceEvent, BounceKind
from leadenrich.bounces.service import REQUEUE_TAG, BounceService
from leadenrich.engine.cache import ResultCache
from leadenrich.jobs.creation import JobCreation
from leadenrich.privacy.ports import AuditQuery, WorkspaceSettings
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.cache import SqliteCache
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.suppression import SqliteSuppressionList
from leadenrich.supabase.bounces import SupabaseBouncedAddresses
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.job_store import SupabaseJobStore
from leadenrich.supabase.lead_source import SupabaseLeadSource
from leadenrich.supabase.rpc import connect_with
from tests.support.bounce_world import (
    BOUNCED,
    JOB_ID,
    KEPT,
    LEAD,
    NOW,
    OTHER,
    UNDELIVERABLE,
    WS,
    addresses_of,
    found_result,
    seed_items,
)

LEAD_IDS = {WS: "5d1c0a9e-2b3f-4c5d-8e6f-7a8b9c0d1e2f", OTHER: "6e2d1b0f-3c4a-4d5e-9f70-8b9cad0e1f30"}


def seed_emails(db: SupabaseTestServer) -> None:
    """Each workspace's lead with BOUNCED (a guess) and KEPT (verified)."""
    db.sql(
        "insert into public.leads (id, workspace_id, company_name, domain, external_id) values "
        + ", ".join(f"('{lead}', '{ws}', 'Acme', 'acme.com', 'crm-1')" for ws, lead in LEAD_IDS.items())
        + "; insert into public.emails (workspace_id, lead_id, email, source, confidence_score, email_type,"
        " hunter_status, status, deliverability) values "
        + ", ".join(
            f"('{ws}', '{lead}', '{BOUNCED}', 'perplexity_generated', 50, 'primary', 'risky', 'inactive',"
            f" 'catch_all'), ('{ws}', '{lead}', '{KEPT}', 'hunter_direct', 95, 'secondary', 'deliverable',"
            " 'active', 'verified')"
            for ws, lead in LEAD_IDS.items()
        )
    )


def emails(db: SupabaseTestServer) -> dict[tuple[str, str], tuple[str, str, str]]:
    rows = db.query("select workspace_id, email, status, hunter_status, deliverability from public.emails")
    return {
        (r["workspace_id"], r["email"]): (r["status"], r["hunter_status"], r["deliverability"]) for r in rows
    }


@pytest.fixture
def settings(supabase_db: SupabaseTestServer) -> SupabaseSettings:
    found = SupabaseSettings.from_env(supabase_db.env())
    assert found is not None
    return found


async def test_the_workspace_s_emails_and_items_are_marked_once(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings
) -> None:
    seed_emails(supabase_db)
    store = SupabaseJobStore(settings)
    marks = SupabaseBouncedAddresses(connect_with(settings), items=True)
    try:
        await seed_items(store, lead_id=LEAD_IDS.get)
        held = await marks.mark_undeliverable(WS, [BOUNCED], NOW)
        assert sorted((h.place, h.email, h.changed, h.guessed, h.lead_id) for h in held) == [
            ("job_items", BOUNCED, True, True, LEAD_IDS[WS]),
            ("supabase.emails", BOUNCED, True, True, LEAD_IDS[WS]),
        ]
        assert [h.lead for h in held if h.place == "job_items"] == [LEAD]
        item = await store.get_item(WS, JOB_ID[WS], "000000")
        assert item is not None and addresses_of(item)[BOUNCED] == UNDELIVERABLE
        assert addresses_of(item)[KEPT] == ("active", "deliverable", "verified")
        other = await store.get_item(OTHER, JOB_ID[OTHER], "000000")
        assert other is not None and other.result == found_result()
        again = await marks.mark_undeliverable(WS, [BOUNCED], NOW)
        assert sorted((h.place, h.changed) for h in again) == [
            ("job_items", False),
            ("supabase.emails", False),
        ]
    finally:
        await close_supabase_clients()
    assert emails(supabase_db) == {
        (WS, BOUNCED): UNDELIVERABLE,
        (WS, KEPT): ("active", "deliverable", "verified"),
        (OTHER, BOUNCED): ("inactive", "risky", "catch_all"),
        (OTHER, KEPT): ("active", "deliverable", "verified"),
    }


async def test_without_the_job_store_only_the_emails_are_marked(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings
) -> None:
    seed_emails(supabase_db)
    marks = SupabaseBouncedAddresses(connect_with(settings), items=False)
    try:
        held = await marks.mark_undeliverable(WS, [BOUNCED.upper()], NOW)  # addresses compare lower case
    finally:
        await close_supabase_clients()
    assert [(h.place, h.changed) for h in held] == [("supabase.emails", True)]
    assert emails(supabase_db)[(WS, BOUNCED)] == UNDELIVERABLE


async def test_with_supabase_as_job_store_the_bounced_lead_is_requeued_by_its_id(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings, tmp_path: Path
) -> None:
    """The whole service on Supabase (JOB_STORE=supabase): marks in its items and `emails`, the re-queue
    through the lead source (the stored lead's id), once."""
    seed_emails(supabase_db)
    db = Database(tmp_path / "state.sqlite3")  # the suppression list, audit trail and cache stay beside it
    store = SupabaseJobStore(settings)
    jobs = JobCreation(store, SqliteWorkQueue(db), leads=SupabaseLeadSource(connect_with(settings)))
    audit = SqliteAuditLog(db)
    service = BounceService(
        [SupabaseBouncedAddresses(connect_with(settings), items=True)],
        SqliteSuppressionList(db),
        audit,
        ResultCache(SqliteCache(db)),
        jobs=jobs,
    )
    requeue = WorkspaceSettings(requeue_on_bounce=True)
    try:
        await seed_items(store, lead_id=LEAD_IDS.get)
        report = await service.apply(WS, "ses", [BounceEvent("m-1", BounceKind.HARD, BOUNCED)], requeue)
        assert report.marked == {"job_items": 1, "supabase.emails": 1}
        assert report.doubted_domains == ["acme.com"]
        job_id = report.requeued[BOUNCED].job_id
        assert job_id is not None
        [item] = (await store.list_items(WS, job_id)).items
        assert item.lead_id == LEAD_IDS[WS]
        job = await store.get_job(WS, job_id)
        assert job is not None and job.options.tags == (REQUEUE_TAG,)
        again = await service.apply(WS, "ses", [BounceEvent("m-2", BounceKind.HARD, BOUNCED)], requeue)
        assert again.marked == {} and again.requeued[BOUNCED].job_id == job_id
        assert len((await store.list_jobs(WS)).items) == 2 and len((await store.list_jobs(OTHER)).items) == 1
    finally:
        await close_supabase_clients()
        db.close()
    assert [e.action for e in (await audit.query(AuditQuery(WS))).items] == ["bounce.hard", "bounce.hard"]
    assert emails(supabase_db)[(OTHER, BOUNCED)] == ("inactive", "risky", "catch_all")


@pytest.mark.parametrize("key", ["anon_key", "user"])
def test_only_the_service_role_may_call_the_bounce_functions(
    supabase_db: SupabaseTestServer, key: str
) -> None:
    seed_emails(supabase_db)
    bearer = supabase_db.user_token(WS) if key == "user" else supabase_db.anon_key
    headers = {"apikey": supabase_db.anon_key, "Authorization": f"Bearer {bearer}"}
    params = {"p_workspace_id": WS, "p_addresses": [BOUNCED]}
    with httpx.Client(base_url=supabase_db.rest_url, timeout=10.0) as http:
        answer = http.post("/rpc/bounce_mark_emails", json=params, headers=headers)
    assert answer.status_code in (401, 403, 404), answer.text
    assert emails(supabase_db)[(WS, BOUNCED)] == ("inactive", "risky", "catch_all")
