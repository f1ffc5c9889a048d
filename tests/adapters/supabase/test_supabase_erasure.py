"""The erasure's Supabase erasers on PostgreSQL + PostgREST (migrations 0010_erasure, 0014_buffer_privacy):
the job items when Supabase is the job store, the stored leads' `emails` rows and their first name, last name
and external id, and the lead buffer; by address, by lead id and by external id; another workspace
untouched; only the service role may call the functions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.jobs.errors import RequestRejected
from leadenrich.privacy.erasure import ErasureKind, ErasureService, ErasureTarget
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList
from leadenrich.supabase.buffer import SupabaseLeadBuffer
from leadenrich.supabase.buffer_erasure import SupabaseBufferErasure
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.erasure import SupabaseErasure
from leadenrich.supabase.job_store import SupabaseJobStore
from leadenrich.supabase.rpc import connect_with
from tests.support.erasure_world import (
    ADA,
    ADA_PERSON,
    BUFFER_ERASED,
    COMPANY_LEAD_ID,
    GRACE,
    LEAD_ID,
    OTHER,
    WS,
    check_buffer,
    check_items,
    erase_ada,
    seed_buffer,
    seed_items,
    traces,
)

OTHER_LEAD_ID = "9f8e7d6c-5b4a-4321-8fed-cba987654321"


def seed_leads(db: SupabaseTestServer) -> None:
    """Ada's lead and the company's in the erasing workspace, each with its addresses; Ada again as a lead
    of another workspace."""
    leads = [
        (LEAD_ID, WS, "'Ada'", "'Lovelace'", "'crm-7'"),
        (COMPANY_LEAD_ID, WS, "null", "null", "null"),
        (OTHER_LEAD_ID, OTHER, "'Ada'", "'Lovelace'", "'crm-7'"),
    ]
    emails = [
        (WS, LEAD_ID, ADA, "primary", "named_person"),
        (WS, COMPANY_LEAD_ID, ADA, "primary", "decision_maker"),
        (WS, COMPANY_LEAD_ID, GRACE, "secondary", "decision_maker"),
        (OTHER, OTHER_LEAD_ID, ADA, "primary", "named_person"),
    ]
    db.sql(
        "insert into public.leads (id, workspace_id, company_name, domain, first_name, last_name,"
        " external_id) values "
        + ", ".join(f"('{i}', '{w}', 'Acme', 'acme.com', {f}, {la}, {x})" for i, w, f, la, x in leads)
        + "; insert into public.emails (workspace_id, lead_id, email, source, confidence_score, email_type,"
        " hunter_status, status, contact) values "
        + ", ".join(
            f"('{w}', '{lead}', '{e}', 'hunter_direct', 95, '{t}', 'deliverable', 'active', '{c}')"
            for w, lead, e, t, c in emails
        )
    )


def supabase_text(db: SupabaseTestServer, workspace_id: str) -> str:
    """Every row of every table of schema public that belongs to the workspace (or to none), as text."""
    tables = [r["table_name"] for r in db.query(
        "select table_name from information_schema.tables where table_schema = 'public'"
        " and table_type = 'BASE TABLE'"
    )]  # fmt: skip
    rows: list[Any] = []
    for table in tables:
        rows += [
            r
            for r in db.query(f"select * from public.{table}")
            if r.get("workspace_id") in (None, workspace_id)
        ]
    return json.dumps(rows, ensure_ascii=False)


@pytest.fixture
def settings(supabase_db: SupabaseTestServer) -> SupabaseSettings:
    found = SupabaseSettings.from_env(supabase_db.env())
    assert found is not None
    return found


@pytest.fixture
def suppressions(tmp_path: Path) -> Iterator[SqliteSuppressionList]:
    db = Database(tmp_path / "state.sqlite3")
    yield SqliteSuppressionList(db)
    db.close()


async def test_an_erasure_by_address_leaves_nothing_of_the_person_in_the_workspace(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings
) -> None:
    seed_leads(supabase_db)
    store = SupabaseJobStore(settings)
    await seed_items(store)
    eraser = SupabaseErasure(connect_with(settings), items=True)
    try:
        counts, links = await erase_ada(eraser)
        assert ADA_PERSON in links.people and LEAD_ID in links.lead_ids
        assert counts == {"job_items": (0, 4), "supabase.emails": (2, 0), "supabase.leads": (0, 1)}
        await check_items(store)
        again, _ = await erase_ada(eraser)
        assert again == {"job_items": (0, 0), "supabase.emails": (0, 0), "supabase.leads": (0, 0)}
    finally:
        await close_supabase_clients()
    leads = {r["id"]: r for r in supabase_db.query("select * from public.leads")}
    assert [leads[LEAD_ID][f] for f in ("first_name", "last_name", "external_id")] == [None, None, None]
    assert leads[LEAD_ID]["company_name"] == "Acme" and leads[LEAD_ID]["domain"] == "acme.com"
    emails = supabase_db.query("select workspace_id, email from public.emails order by workspace_id")
    assert emails == [{"workspace_id": WS, "email": GRACE}, {"workspace_id": OTHER, "email": ADA}]
    assert leads[OTHER_LEAD_ID]["last_name"] == "Lovelace"  # another workspace's lead: untouched
    assert traces(supabase_text(supabase_db, WS)) == []


async def test_an_erasure_reaches_the_lead_buffer_and_keeps_only_its_registrys_hash(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings
) -> None:
    buffer = SupabaseLeadBuffer(connect_with(settings))
    eraser = SupabaseBufferErasure(connect_with(settings))
    try:
        await seed_buffer(buffer)
        counts, links = await erase_ada(eraser)
        assert ADA_PERSON in links.people
        assert counts == {"buffer": BUFFER_ERASED}
        await check_buffer(buffer)
        again, _ = await erase_ada(eraser)
        assert again == {"buffer": (0, 0)}
    finally:
        await close_supabase_clients()
    assert traces(supabase_text(supabase_db, WS)) == []
    registry = supabase_db.query(f"select lead_key from public.buffer_served where workspace_id = '{WS}'")
    assert len(registry) == 2 and all(r["lead_key"].startswith(("p:", "d:")) for r in registry)


@pytest.mark.parametrize(
    ("kind", "value"),
    [(ErasureKind.LEAD_ID, LEAD_ID), (ErasureKind.EXTERNAL_ID, "crm-7")],
    ids=["lead", "external"],
)
async def test_an_erasure_by_lead_takes_the_leads_person_and_addresses(
    supabase_db: SupabaseTestServer,
    settings: SupabaseSettings,
    suppressions: SqliteSuppressionList,
    kind: ErasureKind,
    value: str,
) -> None:
    seed_leads(supabase_db)
    store = SupabaseJobStore(settings)
    await seed_items(store)
    service = ErasureService(
        [SupabaseErasure(connect_with(settings), items=True)], suppressions, leads_configured=True
    )
    try:
        receipt = await service.erase(WS, ErasureTarget(kind, value))
        await check_items(store)  # the company item too: her address, found through her lead, is gone
    finally:
        await close_supabase_clients()
    assert {s.identity.kind.value for s in receipt.suppressed} == {"email", "person"}
    assert receipt.first_time and receipt.counts()["supabase.emails"] == {"removed": 2, "changed": 0}
    assert traces(supabase_text(supabase_db, WS)) == []


async def test_an_unknown_lead_is_refused_naming_the_field(
    supabase_db: SupabaseTestServer, settings: SupabaseSettings, suppressions: SqliteSuppressionList
) -> None:
    seed_leads(supabase_db)
    service = ErasureService(
        [SupabaseErasure(connect_with(settings), items=False)], suppressions, leads_configured=True
    )
    try:
        with pytest.raises(RequestRejected) as refused:
            await service.erase(WS, ErasureTarget(ErasureKind.LEAD_ID, OTHER_LEAD_ID))  # another workspace's
    finally:
        await close_supabase_clients()
    assert refused.value.field == "lead_id"
    assert (await suppressions.list(WS)).items == []  # nothing suppressed for a lead it does not have


@pytest.mark.parametrize("key", ["anon_key", "user"])
def test_only_the_service_role_may_call_the_erasure_functions(
    supabase_db: SupabaseTestServer, key: str
) -> None:
    seed_leads(supabase_db)
    bearer = supabase_db.user_token(WS) if key == "user" else supabase_db.anon_key
    headers = {"apikey": supabase_db.anon_key, "Authorization": f"Bearer {bearer}"}
    params = {
        "p_workspace_id": WS,
        "p_lead_ids": [LEAD_ID],
        "p_addresses": [ADA],
        "p_domains": [],
    }
    with httpx.Client(base_url=supabase_db.rest_url, timeout=10.0) as http:
        answer = http.post("/rpc/erasure_erase_leads", json=params, headers=headers)
    assert answer.status_code in (401, 403, 404), answer.text
    assert supabase_db.scalar("select count(*) from public.emails") == 4
