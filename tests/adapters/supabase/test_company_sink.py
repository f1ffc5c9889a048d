"""The Supabase company sink and migration 0012 over the real stack (PostgreSQL + PostgREST): a lead's
company columns and resolved domain written idempotently, never over newer data or another workspace's lead,
the sweep's selection of due leads, and inline leads that carry a company name and no domain."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.engine.company.profile import CompanyProfile
from leadenrich.engine.company.resolution import ResolutionMethod, decide
from leadenrich.engine.models import Lead
from leadenrich.jobs.company_records import CompanyWrite
from leadenrich.supabase.company_sink import SupabaseCompanySink
from leadenrich.supabase.lead_source import SupabaseLeadSource
from tests.support.scripted_company import FULL
from tests.support.supabase import WORKSPACE_A, WORKSPACE_B
from tests.support.supabase_recording import RecordingConnect

FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
async def connect(supabase_db: SupabaseTestServer) -> AsyncIterator[RecordingConnect]:
    recording = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    yield recording
    await recording.aclose()


def lead(db: SupabaseTestServer, workspace: str, domain: str, name: str = "Acme") -> str:
    lead_id = str(uuid.uuid4())
    db.sql(
        "insert into leads (id, workspace_id, company_name, domain)"
        f" values ('{lead_id}', '{workspace}', '{name}', '{domain}')"
    )
    return lead_id


def columns(db: SupabaseTestServer, lead_id: str) -> dict[str, Any]:
    [row] = db.query(
        "select domain, industry, company_size, location, company_description, company_country,"
        " company_completeness, company_enriched_at, company_data, domain_confidence, domain_resolved_by"
        f" from leads where id = '{lead_id}'"
    )
    return row


def profile(fetched_at: datetime = FETCHED, **changes: Any) -> CompanyProfile:
    return CompanyProfile(domain="acme-robotics.com", fetched_at=fetched_at, **{**FULL, **changes})


async def test_a_profile_lands_in_the_leads_company_columns_once(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    lead_id = lead(supabase_db, WORKSPACE_A, "acme-robotics.com")
    sink = SupabaseCompanySink(connect)
    write = CompanyWrite(WORKSPACE_A, lead_id, profile())
    assert await sink.save([write]) == 1
    row = columns(supabase_db, lead_id)
    assert (row["industry"], row["company_size"], row["location"]) == (
        "Machinery",
        "11-50",
        "Boston, United States",
    )
    assert (row["company_country"], row["company_completeness"]) == ("US", 100)
    assert row["company_description"] == FULL["description"]
    assert row["company_data"]["linkedin"] == "company/acme-robotics"
    assert datetime.fromisoformat(row["company_enriched_at"]) == FETCHED
    assert row["domain_confidence"] is None  # it came with its domain

    assert await sink.save([write]) == 0  # the same item again: nothing changes
    older = CompanyWrite(WORKSPACE_A, lead_id, profile(FETCHED - timedelta(days=1), industry="Software"))
    assert await sink.save([older]) == 0  # an old retry never overwrites newer data
    newer = CompanyWrite(WORKSPACE_A, lead_id, profile(FETCHED + timedelta(days=95), employees="51-200"))
    assert await sink.save([newer]) == 1
    assert columns(supabase_db, lead_id)["company_size"] == "51-200"
    assert await sink.save([CompanyWrite(WORKSPACE_B, lead_id, profile(FETCHED + timedelta(days=99)))]) == 0
    assert [e.path for e in connect.exchanges] == ["/rest/v1/rpc/save_lead_companies"] * 5


async def test_a_resolved_domain_lands_only_on_a_lead_stored_without_one(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    named = lead(supabase_db, WORKSPACE_A, "", "Acme Robotics")
    given = lead(supabase_db, WORKSPACE_A, "acme.com", "Acme Robotics")
    resolution = decide(
        "Acme Robotics", [("acme-robotics.com", "Acme Robotics Inc.")], ResolutionMethod.DISCOVER
    )
    sink = SupabaseCompanySink(connect)
    assert await sink.save([CompanyWrite(WORKSPACE_A, lid, None, resolution) for lid in (named, given)]) == 1
    row = columns(supabase_db, named)
    assert (row["domain"], row["domain_confidence"], row["domain_resolved_by"]) == (
        "acme-robotics.com",
        100,
        "discover",
    )
    assert row["industry"] is None  # no profile: the company columns are left alone
    assert columns(supabase_db, given)["domain"] == "acme.com"


async def test_the_sweep_selects_leads_whose_company_data_is_missing_or_too_old(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    now = datetime.now(UTC)
    never = lead(supabase_db, WORKSPACE_A, "never.com")
    old = lead(supabase_db, WORKSPACE_A, "old.com")
    fresh = lead(supabase_db, WORKSPACE_A, "fresh.com")
    lead(supabase_db, WORKSPACE_A, "", "No Domain Yet")
    lead(supabase_db, WORKSPACE_B, "other-workspace.com")
    sink = SupabaseCompanySink(connect)
    await sink.save(
        [
            CompanyWrite(WORKSPACE_A, old, profile(now - timedelta(days=91))),
            CompanyWrite(WORKSPACE_A, fresh, profile(now - timedelta(days=89))),
        ]
    )
    due = await sink.stale(WORKSPACE_A, max_age_days=90)
    assert sorted(s.lead_id for s in due) == sorted([never, old])
    assert {s.lead_id: s.company_enriched_at is None for s in due} == {never: True, old: False}
    # Keyset pages in id order.
    first = await sink.stale(WORKSPACE_A, max_age_days=90, limit=1)
    rest = await sink.stale(WORKSPACE_A, max_age_days=90, after_id=first[0].lead_id)
    assert [s.lead_id for s in first + rest] == sorted([never, old])
    assert {s.lead_id for s in await sink.stale(WORKSPACE_A, max_age_days=30)} == {never, old, fresh}


async def test_inline_leads_may_carry_a_company_name_and_no_domain(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    source = SupabaseLeadSource(connect)
    leads = [Lead(company_name="Nordlicht Energie"), Lead(domain="acme-robotics.com")]
    [first] = [page async for page in source.register(WORKSPACE_A, leads)]
    [again] = [page async for page in source.register(WORKSPACE_A, [Lead(company_name="NORDLICHT energie")])]
    assert again[0].lead_id == first[0].lead_id  # matched by name, not added twice
    rows = supabase_db.query(
        f"select company_name, domain from leads where workspace_id = '{WORKSPACE_A}' order by 2"
    )
    assert rows == [  # a matched lead takes the values given (0003's rule)
        {"company_name": "NORDLICHT energie", "domain": ""},
        {"company_name": "acme-robotics.com", "domain": "acme-robotics.com"},
    ]


async def test_a_stored_lead_with_only_a_company_name_can_be_enriched_by_id(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    named = lead(supabase_db, WORKSPACE_A, "", "Nordlicht Energie")
    blank = lead(supabase_db, WORKSPACE_A, "", " ")
    [page] = [page async for page in SupabaseLeadSource(connect).by_ids(WORKSPACE_A, [named, blank])]
    assert [(s.lead_id, s.lead) for s in page] == [(named, Lead(company_name="Nordlicht Energie"))]
