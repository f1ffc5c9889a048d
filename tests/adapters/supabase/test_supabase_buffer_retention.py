"""The lead buffer's retention purge on PostgreSQL + PostgREST (`buffer_purge_expired`, migration
0014_buffer_privacy), held to the scenario every store with a purge shares
(tests/support/buffer_retention.py); and 0014's functions and registry are the service role's alone."""

from __future__ import annotations

import httpx
import pytest

from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.supabase.buffer import SupabaseLeadBuffer
from leadenrich.supabase.buffer_retention import SupabaseBufferPurge
from leadenrich.supabase.client import SupabaseSettings, close_supabase_clients
from leadenrich.supabase.rpc import connect_with
from tests.support.buffer_retention import check_buffer_retention


async def test_leads_expire_by_their_workspaces_periods_and_the_registry_by_its_own(
    supabase_db: SupabaseTestServer,
) -> None:
    settings = SupabaseSettings.from_env(supabase_db.env())
    assert settings is not None
    try:
        await check_buffer_retention(
            SupabaseLeadBuffer(connect_with(settings)), SupabaseBufferPurge(connect_with(settings))
        )
    finally:
        await close_supabase_clients()


@pytest.mark.parametrize("key", ["anon_key", "user"])
def test_only_the_service_role_may_purge_erase_or_read_the_registry(
    supabase_db: SupabaseTestServer, key: str
) -> None:
    supabase_db.sql(
        "insert into public.buffer_served (workspace_id, namespace, lead_key, served_at)"
        " values ('acme', 'n', 'd:acme.com', now() - interval '1000 days')"
    )
    bearer = supabase_db.user_token("acme") if key == "user" else supabase_db.anon_key
    headers = {"apikey": supabase_db.anon_key, "Authorization": f"Bearer {bearer}"}
    calls = {
        "/rpc/buffer_purge_expired": {"p_now": "2030-01-01T00:00:00Z"},
        "/rpc/erasure_rewrite_buffer": {
            "p_workspace_id": "acme",
            "p_delete": [],
            "p_leads": [],
            "p_cursors": [],
        },
        "/rpc/erasure_find_buffer": {"p_workspace_id": "acme", "p_patterns": ["acme.com"]},
    }
    with httpx.Client(base_url=supabase_db.rest_url, timeout=10.0) as http:
        for path, params in calls.items():
            answer = http.post(path, json=params, headers=headers)
            assert answer.status_code in (401, 403, 404), (path, answer.text)
        listed = http.get("/buffer_served", headers=headers)
        assert listed.status_code in (401, 403, 404) or listed.json() == [], listed.text
    assert supabase_db.scalar("select count(*) from public.buffer_served") == 1
