"""The Supabase lead source over the real stack (supabase-py -> gateway -> PostgREST -> PostgreSQL): leads by
id, by domain, inline leads matched or added, and process_all in keyset pages of at most 500 rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import SourcedLead
from leadenrich.jobs.ports import EnrichableCount, LeadStoreError
from leadenrich.supabase.lead_source import SupabaseLeadSource
from tests.support.supabase import WORKSPACE_A, WORKSPACE_B
from tests.support.supabase_recording import RecordingConnect


@pytest.fixture
async def connect(supabase_db: SupabaseTestServer) -> AsyncIterator[RecordingConnect]:
    recording = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    yield recording
    await recording.aclose()


def insert_leads(db: SupabaseTestServer, workspace: str, domains: Sequence[str], **columns: str) -> list[str]:
    """Leads through SQL (not the code under test); their ids in the order given."""
    ids = [str(uuid.uuid4()) for _ in domains]
    extra = "".join(f", {name}" for name in columns)
    values = ", ".join(
        f"('{i}', '{workspace}', '{d.title()}', '{d}'" + "".join(f", '{v}'" for v in columns.values()) + ")"
        for i, d in zip(ids, domains, strict=True)
    )
    db.sql(f"insert into leads (id, workspace_id, company_name, domain{extra}) values {values}")
    return ids


def add_email(db: SupabaseTestServer, workspace: str, lead_id: str, status: str = "active") -> None:
    db.sql(
        "insert into emails (workspace_id, lead_id, email, source, email_type, status)"
        f" values ('{workspace}', '{lead_id}', 'x{uuid.uuid4().hex[:6]}@x.com', 'hunter_direct', 'secondary',"
        f" '{status}')"
    )


async def collect(pages: AsyncIterator[list[SourcedLead]]) -> list[list[SourcedLead]]:
    return [page async for page in pages]


async def test_inline_leads_are_matched_by_external_id_then_domain_and_names_or_added(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    [stored] = insert_leads(supabase_db, WORKSPACE_A, ["https://www.Acme.com/about"])
    [jane] = insert_leads(supabase_db, WORKSPACE_A, ["acme.com"], first_name="Jane", last_name="Doe")
    [crm] = insert_leads(supabase_db, WORKSPACE_A, ["globex.io"], external_id="crm-7")
    add_email(supabase_db, WORKSPACE_A, crm)
    source = SupabaseLeadSource(connect)

    leads = [
        Lead(domain="ACME.com"),  # the company-level lead, whatever its stored spelling
        Lead(domain="acme.com", first_name="jane", last_name="DOE"),  # the person, case-insensitively
        Lead(domain="globex-new.io", external_id="crm-7"),  # the CRM id wins over the domain
        Lead(domain="acme.com", first_name="Bob"),  # a new person at a known company
        Lead(domain="https://initech.com/x", company_name="Initech", external_id="crm-9"),
        Lead(domain="initech.com", external_id="crm-9"),  # added above, in the same call
    ]
    [page] = await collect(source.register(WORKSPACE_A, leads))

    assert [s.lead for s in page] == leads  # each keeps the lead as given
    assert [s.lead_id for s in page[:3]] == [stored, jane, crm]
    assert page[4].lead_id == page[5].lead_id and page[3].lead_id not in (stored, jane)
    assert [s.has_active_email for s in page] == [False, False, True, False, False, False]
    added = supabase_db.query(
        "select domain, company_name, first_name, external_id from leads"
        f" where id in ('{page[3].lead_id}', '{page[4].lead_id}') order by domain"
    )
    assert added == [
        {"domain": "acme.com", "company_name": "acme.com", "first_name": "Bob", "external_id": None},
        {"domain": "initech.com", "company_name": "Initech", "first_name": None, "external_id": "crm-9"},
    ]  # stored in normal form; the company name defaults to the domain
    assert supabase_db.scalar(f"select domain from leads where id = '{crm}'") == "globex-new.io"

    again = await collect(source.register(WORKSPACE_A, leads))
    assert [s.lead_id for s in again[0]] == [s.lead_id for s in page]  # a re-run adds nothing
    assert supabase_db.scalar("select count(*) from leads") == 5
    [other] = await collect(source.register(WORKSPACE_B, leads[:1]))
    assert other[0].lead_id != stored  # another workspace's lead is never matched
    assert len(connect.calls("register_leads")) == 3


async def test_lead_ids_come_in_input_order_and_unknown_or_domainless_ones_are_absent(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    ids = insert_leads(supabase_db, WORKSPACE_A, [f"c{i}.com" for i in range(5)])
    [blank] = insert_leads(supabase_db, WORKSPACE_A, [""])
    [elsewhere] = insert_leads(supabase_db, WORKSPACE_B, ["b.com"])
    add_email(supabase_db, WORKSPACE_A, ids[3])
    add_email(supabase_db, WORKSPACE_A, ids[4], status="inactive")
    wanted = [ids[4], ids[0], str(uuid.uuid4()), blank, elsewhere, ids[3]]

    pages = await collect(SupabaseLeadSource(connect, page_size=2).by_ids(WORKSPACE_A, wanted))

    assert [[s.lead_id for s in page] for page in pages] == [[ids[4], ids[0]], [], [ids[3]]]
    assert [s.has_active_email for page in pages for s in page] == [False, False, True]
    assert pages[0][1].lead == Lead(domain="c0.com", company_name="C0.Com")
    assert [e.rows_sent for e in connect.calls("leads_by_ids")] == [2, 2, 2]


async def test_domains_match_normalised_domains_and_a_domain_without_a_lead_gets_one(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    acme = insert_leads(supabase_db, WORKSPACE_A, ["https://www.Acme.com/team", "acme.com", "ACME.COM."])
    insert_leads(supabase_db, WORKSPACE_A, ["acme.co"])
    insert_leads(supabase_db, WORKSPACE_B, ["acme.com"])

    pages = await collect(
        SupabaseLeadSource(connect, page_size=2).by_domains(WORKSPACE_A, ["acme.com", "new.io"])
    )

    selected = [s for page in pages for s in page]
    assert [len(page) for page in pages] == [2, 2]  # keyset pages of at most 2
    assert {s.lead_id for s in selected} >= set(acme) and len(selected) == 4
    [added] = [s for s in selected if s.lead_id not in acme]
    assert added.lead == Lead(domain="new.io", company_name="new.io")
    again = await collect(SupabaseLeadSource(connect).by_domains(WORKSPACE_A, ["new.io"]))
    assert [s.lead_id for page in again for s in page] == [added.lead_id]  # added once only


async def test_process_all_pages_by_id_and_skips_leads_with_an_active_email(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    ids = sorted(insert_leads(supabase_db, WORKSPACE_A, [f"c{i}.com" for i in range(12)]))
    insert_leads(supabase_db, WORKSPACE_A, ["  "])  # no domain: never enriched
    insert_leads(supabase_db, WORKSPACE_B, ["other.com"])
    add_email(supabase_db, WORKSPACE_A, ids[0])
    add_email(supabase_db, WORKSPACE_A, ids[5], status="inactive")  # not an active email: still missing
    source = SupabaseLeadSource(connect, page_size=5)

    pages = await collect(source.enrichable(WORKSPACE_A, skip_existing=True))
    assert [s.lead_id for page in pages for s in page] == ids[1:]
    assert [len(page) for page in pages] == [5, 5, 1]
    assert all((e.rows_answered or 0) <= 5 for e in connect.exchanges)

    everything = await collect(source.enrichable(WORKSPACE_A, skip_existing=False, after_id=ids[2], limit=4))
    assert [s.lead_id for page in everything for s in page] == ids[3:7]
    assert await source.count_enrichable(WORKSPACE_A) == EnrichableCount(with_domain=12, missing_email=11)
    counted = await source.count_enrichable(WORKSPACE_A, after_id=ids[9])
    assert (counted.with_domain, counted.missing_email) == (2, 2)


async def test_an_unreachable_supabase_is_a_lead_store_error_without_data() -> None:
    connect = RecordingConnect("http://127.0.0.1:9", "key")
    with pytest.raises(LeadStoreError, match=r"Supabase register_leads: unreachable \(ConnectError\)"):
        await collect(SupabaseLeadSource(connect).register(WORKSPACE_A, [Lead(domain="jane@acme.com")]))
    await connect.aclose()
