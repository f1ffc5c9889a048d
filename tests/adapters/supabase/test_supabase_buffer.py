"""The Supabase lead buffer on PostgreSQL + PostgREST (migration 0011_lead_buffer), held to the shared
contract (tests/support/buffer_contract.py) under real concurrency (each call is its own transaction on its
own connection), then what is its own: the migration applies again unchanged, its functions and tables are
the service role's alone, and a claim does not wait behind another claim's locked row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from supabase import Client

from enrich_tools.supabase_harness import SupabaseTestServer
from enrich_tools.supabase_harness.postgres import apply_migrations
from leadenrich.buffer.ports import LeadBuffer
from leadenrich.supabase.buffer import SupabaseLeadBuffer
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.rpc import connect_with
from tests.support.buffer_contract import NOW, NS, WS, LeadBufferContract, claim, claimed, records

FUNCTIONS = (
    "lead_buffer_claim",
    "lead_buffer_discard",
    "lead_buffer_push",
    "lead_buffer_put_cursor",
    "lead_buffer_serve",
    "lead_buffer_served",
)


@pytest.fixture
async def buffer(supabase_db: SupabaseTestServer) -> AsyncIterator[SupabaseLeadBuffer]:
    settings = SupabaseSettings.from_env(supabase_db.env())
    assert settings is not None
    yield SupabaseLeadBuffer(connect_with(settings))
    await close_supabase_clients()


def conforms(buffer: SupabaseLeadBuffer) -> LeadBuffer:
    """mypy checks the adapter against the port here."""
    return buffer


class TestSupabaseLeadBuffer(LeadBufferContract):
    """The shared contract on Supabase (the `buffer` fixture above)."""


def test_0011_applies_again_unchanged_and_is_the_service_roles_alone(
    supabase_server: SupabaseTestServer,
) -> None:
    snapshot = (
        "select p.proname, pg_get_functiondef(p.oid) as def, p.proacl::text[] as acl, p.prosecdef"
        " from pg_proc as p where p.pronamespace = 'public'::regnamespace"
        " and p.proname like 'lead\\_buffer\\_%' order by 1"
    )
    tables = (
        "select relname, relrowsecurity, relacl::text[] as acl from pg_class"
        " where relnamespace = 'public'::regnamespace and relname in ('buffer_leads', 'buffer_cursors')"
        " order by 1"
    )
    with supabase_server.scratch_database() as db:
        apply_migrations(db)
        first = db.query(snapshot)
        db.execute(
            "insert into buffer_cursors (workspace_id, namespace, state, updated_at)"
            " values ('w', 'n', '{\"page\": 2}', now())"
        )
        apply_migrations(db)
        assert db.query(snapshot) == first
        assert db.scalar("select state ->> 'page' from buffer_cursors") == "2"  # the data stays
        table_rows = db.query(tables)
    assert [f["proname"] for f in first] == list(FUNCTIONS)
    for function in first:
        assert not function["prosecdef"] and "search_path TO ''" in function["def"]
        grantees = {entry.split("=")[0] for entry in function["acl"]}
        assert "service_role" in grantees and not grantees & {"anon", "authenticated", ""}
    assert [t["relname"] for t in table_rows] == ["buffer_cursors", "buffer_leads"]
    for table in table_rows:
        assert table["relrowsecurity"]
        grantees = {entry.split("=")[0] for entry in table["acl"]}
        assert not grantees & {"anon", "authenticated", ""}


def test_a_signed_in_user_or_anon_reaches_neither_the_tables_nor_the_functions(
    anon_client: Client,
    user_client: Callable[[str], Client],
    http: httpx.Client,
    supabase_db: SupabaseTestServer,
) -> None:
    supabase_db.sql(
        "insert into buffer_cursors (workspace_id, namespace, state, updated_at)"
        " values ('ws-a', 'n', '{}', now())"
    )
    for client in (anon_client, user_client("ws-a")):
        with pytest.raises(Exception, match=r"permission denied|42501"):
            client.table("buffer_cursors").select("*").execute()
    answer = http.post(
        "/rpc/lead_buffer_served",
        headers={"apikey": supabase_db.anon_key, "Authorization": f"Bearer {supabase_db.anon_key}"},
        json={"p_workspace_id": "ws-a"},
    )
    assert answer.status_code in (401, 403, 404)


async def test_a_claim_skips_a_row_another_claim_holds_locked(
    buffer: SupabaseLeadBuffer, supabase_db: SupabaseTestServer
) -> None:
    """Given the oldest lead locked by a transaction still open (as a slow claim holds it), when a claim
    comes, then it takes the next lead instead of waiting for the lock (SKIP LOCKED): had it waited, it
    would have got the oldest one once the lock was released."""
    pushed = records("first.com", "second.com", at=NOW - timedelta(seconds=1))
    await buffer.push(WS, NS, pushed)
    hold = f"begin; select 1 from buffer_leads where lead_id = '{pushed[0].lead_id}' for update;"
    holder = asyncio.create_task(asyncio.to_thread(supabase_db.sql, hold + " select pg_sleep(1); commit;"))
    waiting = (
        "select count(*) from pg_stat_activity where state = 'active' and query like '%pg_sleep(1)%'"
        " and pid <> pg_backend_pid()"
    )
    while not int(supabase_db.scalar(waiting)):  # noqa: ASYNC110 - another process's state, polled
        await asyncio.sleep(0.02)  # the lock is held from here until the sleep ends
    taken = await claim(buffer, token="quick")
    assert taken is not None and taken.lead.domain == "second.com"
    await holder
    assert (await claimed(buffer, token="later")).lead.domain == "first.com"
