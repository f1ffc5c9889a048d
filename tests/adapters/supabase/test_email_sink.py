"""The Supabase email sink over the real stack: upsert on (lead_id, email) in batches of at most 500 rows,
one primary per lead, idempotent, and concurrent saves sharing requests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from postgrest import APIError
from supabase import Client

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    FoundEmail,
    HunterStatus,
    Method,
)
from leadenrich.jobs.ports import EmailsSaved, EmailWrite, LeadStoreError
from leadenrich.supabase.email_sink import SupabaseEmailSink
from tests.support.supabase import WORKSPACE_A, WORKSPACE_B
from tests.support.supabase_recording import RecordingConnect

VERIFIED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
async def connect(supabase_db: SupabaseTestServer) -> AsyncIterator[RecordingConnect]:
    recording = RecordingConnect(supabase_db.url, supabase_db.service_role_key)
    yield recording
    await recording.aclose()


def new_leads(db: SupabaseTestServer, workspace: str, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    values = ", ".join(f"('{i}', '{workspace}', 'Co', 'co{n}.com')" for n, i in enumerate(ids))
    db.sql(f"insert into leads (id, workspace_id, company_name, domain) values {values}")
    return ids


def found(
    email: str,
    email_type: EmailType = EmailType.SECONDARY,
    score: int = 90,
    status: EmailStatus = EmailStatus.ACTIVE,
    verified_at: datetime | None = VERIFIED,
    source: EmailSource = EmailSource.HUNTER_DIRECT,
) -> FoundEmail:
    return FoundEmail(
        email=email,
        source=source,
        confidence_score=score,
        email_type=email_type,
        hunter_status=HunterStatus.DELIVERABLE,
        status=status,
        verified_at=verified_at,
        method=Method.DOMAIN_SEARCH,
        deliverability=Deliverability.VERIFIED if status is EmailStatus.ACTIVE else Deliverability.CATCH_ALL,
        person="Jane Doe",
    )


def stored(db: SupabaseTestServer) -> list[dict[str, Any]]:
    return db.query(
        "select lead_id::text, email, source, confidence_score, email_type, hunter_status, status,"
        " verified_at, workspace_id, deliverability, contact from emails order by lead_id, email"
    )


async def test_an_items_addresses_land_in_the_emails_columns(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    [lead] = new_leads(supabase_db, WORKSPACE_A, 1)
    emails = (
        found("jane@co0.com", EmailType.PRIMARY, score=97),
        found(
            "J.Doe@Co0.com ",
            score=140,  # out of range from a provider: clamped to 100
            status=EmailStatus.INACTIVE,
            verified_at=None,  # never verified: stored as such, not as "now"
            source=EmailSource.PERPLEXITY_GENERATED,
        ),
    )
    saved = await SupabaseEmailSink(connect).save([EmailWrite(WORKSPACE_A, lead, emails)])

    assert saved == EmailsSaved(inserted=2, requests=1)
    assert stored(supabase_db) == [
        {
            "lead_id": lead,
            "email": "j.doe@co0.com",
            "source": "perplexity_generated",
            "confidence_score": 100,
            "email_type": "secondary",
            "hunter_status": "deliverable",
            "status": "inactive",
            "verified_at": None,
            "workspace_id": WORKSPACE_A,
            "deliverability": "catch_all",
            "contact": "decision_maker",
        },
        {
            "lead_id": lead,
            "email": "jane@co0.com",
            "source": "hunter_direct",
            "confidence_score": 97,
            "email_type": "primary",
            "hunter_status": "deliverable",
            "status": "active",
            "verified_at": "2026-11-20T09:30:00+00:00",
            "workspace_id": WORKSPACE_A,
            "deliverability": "verified",
            "contact": "decision_maker",
        },
    ]


async def test_saving_again_writes_no_duplicates_and_a_new_best_address_demotes_the_old_primary(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    [lead] = new_leads(supabase_db, WORKSPACE_A, 1)
    sink = SupabaseEmailSink(connect)
    first = EmailWrite(WORKSPACE_A, lead, (found("jane@co0.com", EmailType.PRIMARY), found("info@co0.com")))
    await sink.save([first])
    before = supabase_db.query("select id, updated_at from emails order by email")

    assert await sink.save([first]) == EmailsSaved(unchanged=2, requests=1)
    assert supabase_db.query("select id, updated_at from emails order by email") == before  # not rewritten

    rerun = EmailWrite(
        WORKSPACE_A,
        lead,
        (found("bob@co0.com", EmailType.PRIMARY, score=99), found("jane@co0.com", score=93)),
    )
    assert await sink.save([rerun]) == EmailsSaved(inserted=1, updated=1, requests=1)
    types = {row["email"]: row["email_type"] for row in stored(supabase_db)}
    assert types == {"bob@co0.com": "primary", "jane@co0.com": "secondary", "info@co0.com": "secondary"}

    # A result without a primary (a generic address only) leaves the lead's primary where it is.
    await sink.save([EmailWrite(WORKSPACE_A, lead, (found("bob@co0.com", score=80),))])
    assert supabase_db.scalar("select email from emails where email_type = 'primary'") == "bob@co0.com"


async def test_two_items_of_one_lead_in_one_batch_still_leave_one_primary(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    [lead] = new_leads(supabase_db, WORKSPACE_A, 1)
    writes = [
        EmailWrite(WORKSPACE_A, lead, (found("jane@co0.com", EmailType.PRIMARY, score=91),)),
        EmailWrite(WORKSPACE_A, lead, (found("bob@co0.com", EmailType.PRIMARY, score=96),)),
        EmailWrite(WORKSPACE_A, lead, (found("jane@co0.com", EmailType.PRIMARY, score=91),)),
    ]
    assert (await SupabaseEmailSink(connect).save(writes)).inserted == 2
    assert supabase_db.query("select email from emails where email_type = 'primary'") == [
        {"email": "bob@co0.com"}  # the better of the two
    ]


async def test_rows_go_in_requests_of_at_most_500_and_a_deleted_lead_is_skipped(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    leads = new_leads(supabase_db, WORKSPACE_A, 300)
    writes = [
        EmailWrite(
            WORKSPACE_A,
            lead,
            (found(f"a@co{n}.com", EmailType.PRIMARY), found(f"b@co{n}.com"), found(f"c@co{n}.com")),
        )
        for n, lead in enumerate(leads)
    ]
    writes.append(EmailWrite(WORKSPACE_A, str(uuid.uuid4()), (found("ghost@gone.com"),)))  # no such lead
    writes.append(EmailWrite(WORKSPACE_B, leads[0], (found("x@co0.com"),)))  # a lead of another workspace

    saved = await SupabaseEmailSink(connect).save(writes)

    assert saved == EmailsSaved(inserted=900, skipped=2, requests=2)
    assert [e.rows_sent for e in connect.calls("upsert_emails")] == [498, 404]  # whole leads per request
    assert supabase_db.scalar("select count(*) from emails") == 900
    assert supabase_db.scalar("select count(*) from emails where email_type = 'primary'") == 300


async def test_concurrent_saves_share_requests(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    leads = new_leads(supabase_db, WORKSPACE_A, 40)
    sink = SupabaseEmailSink(connect)

    await asyncio.gather(
        *(
            sink.save([EmailWrite(WORKSPACE_A, lead, (found(f"ceo@co{n}.com", EmailType.PRIMARY),))])
            for n, lead in enumerate(leads)
        )
    )

    assert supabase_db.scalar("select count(*) from emails") == 40
    assert len(connect.calls("upsert_emails")) <= 2  # the first alone, then everyone who arrived meanwhile


async def test_a_failed_request_fails_every_save_in_it_and_the_next_save_goes_again(
    supabase_db: SupabaseTestServer, connect: RecordingConnect
) -> None:
    [lead] = new_leads(supabase_db, WORKSPACE_A, 1)
    sink = SupabaseEmailSink(connect)
    bad = FoundEmail(
        email="x@co0.com",
        source=EmailSource.HUNTER_DIRECT,
        confidence_score=90,
        email_type=EmailType.PRIMARY,
        hunter_status=HunterStatus.DELIVERABLE,
        status=EmailStatus.ACTIVE,
        verified_at=VERIFIED,
        method=Method.DOMAIN_SEARCH,
        deliverability=Deliverability.VERIFIED,
    )
    supabase_db.sql("alter table emails add constraint test_no_x check (email <> 'x@co0.com')")
    try:
        with pytest.raises(
            LeadStoreError, match=r"Supabase upsert_emails: error 23514$"
        ):  # no row data in it
            await sink.save([EmailWrite(WORKSPACE_A, lead, (bad,))])
    finally:
        supabase_db.sql("alter table emails drop constraint test_no_x")
    assert (await sink.save([EmailWrite(WORKSPACE_A, lead, (bad,))])).inserted == 1


def test_signed_in_users_write_only_their_workspace_and_anon_cannot_call(
    supabase_db: SupabaseTestServer, user_client: Callable[[str], Client], anon_client: Client
) -> None:
    [lead_a] = new_leads(supabase_db, WORKSPACE_A, 1)
    row = {
        "workspace_id": WORKSPACE_A,
        "lead_id": lead_a,
        "email": "jane@co0.com",
        "source": "hunter_direct",
        "confidence_score": 95,
        "email_type": "primary",
        "hunter_status": "deliverable",
        "status": "active",
        "verified_at": None,
    }
    as_a, as_b = user_client(WORKSPACE_A), user_client(WORKSPACE_B)
    answer = as_b.rpc("upsert_emails", {"p_rows": [row]}).execute().data
    assert answer == {"inserted": 0, "updated": 0, "unchanged": 0, "skipped": 1}  # RLS: A's lead is invisible
    stats = as_b.rpc("lead_stats", {"p_workspace_id": WORKSPACE_A}).execute().data
    assert isinstance(stats, dict) and stats["total_leads"] == 0
    answer = as_a.rpc("upsert_emails", {"p_rows": [row]}).execute().data
    assert isinstance(answer, dict) and answer["inserted"] == 1
    with pytest.raises(APIError) as refused:
        anon_client.rpc("lead_stats", {"p_workspace_id": WORKSPACE_A}).execute()
    assert refused.value.code == "42501"
