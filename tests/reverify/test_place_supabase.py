"""The sweep's place in Supabase on PostgreSQL + PostgREST (migration 0016_reverification): the workspace's
active `emails` rows verified before the cut-off, oldest first and held by the most leads first; a verdict
written to every row of the address, reported with what each had, a second write a no-op, and another
workspace's rows untouched; the selection reads the partial index, and only the service role may call."""

from __future__ import annotations

import httpx
import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.reverify.rules import Verdict
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.reverify import STALE, SupabaseReverifyPlace
from leadenrich.supabase.rpc import connect_with
from tests.support.reverify_world import CUTOFF, NOW, OLDEST, OTHER, SHARED, SINGLE, VERIFIED, WS, days_ago

LEADS = {
    WS: ["5d1c0a9e-2b3f-4c5d-8e6f-7a8b9c0d1e2f", "5d1c0a9e-2b3f-4c5d-8e6f-7a8b9c0d1e30"],
    OTHER: ["6e2d1b0f-3c4a-4d5e-9f70-8b9cad0e1f30", "6e2d1b0f-3c4a-4d5e-9f70-8b9cad0e1f31"],
}
GONE = Verdict("inactive", "undeliverable", "undeliverable", None)


def seed(db: SupabaseTestServer) -> None:
    """Each workspace's two leads: OLDEST (300 days), SHARED on both (200), SINGLE (200), a fresh one, and
    an inactive old one (never a candidate)."""
    rows: list[str] = []
    for ws, (first, second) in LEADS.items():
        for lead, email, days, status in [
            (first, OLDEST, 300, "active"),
            (first, SHARED, 200, "active"),
            (second, SHARED, 200, "active"),
            (second, SINGLE, 200, "active"),
            (second, "bob.new@acme.com", 10, "active"),
            (second, "old.guess@acme.com", 400, "inactive"),
        ]:
            graded = ("deliverable", "verified") if status == "active" else ("risky", "catch_all")
            rows.append(
                f"('{ws}', '{lead}', '{email}', 'hunter_direct', 95, 'secondary', '{graded[0]}', '{status}',"
                f" '{graded[1]}', '{days_ago(days).isoformat()}')"
            )
    db.sql(
        "insert into public.leads (id, workspace_id, company_name, domain) values "
        + ", ".join(f"('{lead}', '{ws}', 'Acme', 'acme.com')" for ws, ids in LEADS.items() for lead in ids)
        + "; insert into public.emails (workspace_id, lead_id, email, source, confidence_score, email_type,"
        " hunter_status, status, deliverability, verified_at) values " + ", ".join(rows)
    )


def graded(db: SupabaseTestServer, ws: str, email: str) -> set[tuple[str, str, str]]:
    found = db.query(
        f"select status, hunter_status, deliverability from public.emails where workspace_id = '{ws}'"
        f" and email = '{email}'"
    )
    return {(r["status"], r["hunter_status"], r["deliverability"]) for r in found}


@pytest.fixture
def settings(supabase_db: SupabaseTestServer) -> SupabaseSettings:
    found = SupabaseSettings.from_env(supabase_db.env())
    assert found is not None
    return found


async def test_selection_and_a_changed_verdict_on_emails(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings
) -> None:
    seed(supabase_db)
    place = SupabaseReverifyPlace(connect_with(settings))
    try:
        found = await place.stale(WS, CUTOFF, 10)
        assert [(a.email, a.uses) for a in found] == [(OLDEST, 1), (SHARED, 2), (SINGLE, 1)]
        assert found[0].verified_at == days_ago(300)
        assert [a.email for a in await place.stale(WS, CUTOFF, 2)] == [OLDEST, SHARED]

        rewrites = await place.apply(WS, OLDEST, GONE, NOW)
        assert [(r.place, r.before.graded(), r.changed, r.lead_id) for r in rewrites] == [
            ("supabase.emails", VERIFIED, True, LEADS[WS][0])
        ]
        assert graded(supabase_db, WS, OLDEST) == {GONE.graded()}
        assert graded(supabase_db, OTHER, OLDEST) == {VERIFIED}
        assert await place.apply(WS, OLDEST, GONE, NOW) == []

        redated = await place.apply(WS, SHARED, Verdict(*VERIFIED, NOW.isoformat()), NOW)
        assert sorted((r.changed, r.lead_id) for r in redated) == [
            (False, LEADS[WS][0]),
            (False, LEADS[WS][1]),
        ]
        assert [a.email for a in await place.stale(WS, CUTOFF, 10)] == [SINGLE]
    finally:
        await close_supabase_clients()


def test_the_selection_reads_the_index_and_only_the_service_role_may_call(
    supabase_db: SupabaseTestServer,
) -> None:
    plan = supabase_db.sql(
        "set enable_seqscan = off; explain select * from public.emails where workspace_id = 'w' and "
        "status = 'active' and verified_at < now()"
    )
    assert "idx_emails_reverify" in plan
    answer = httpx.post(
        f"{supabase_db.url}/rest/v1/rpc/{STALE}",
        json={"p_workspace_id": WS, "p_before": CUTOFF.isoformat(), "p_limit": 5},
        headers={"apikey": supabase_db.anon_key, "Authorization": f"Bearer {supabase_db.anon_key}"},
    )
    assert answer.status_code in (401, 403, 404)
