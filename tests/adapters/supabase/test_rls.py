"""Row-level security with two workspaces: a user's token sees and writes its own workspace only, the anon
key sees nothing, the service role sees everything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from postgrest import APIError
from supabase import Client

from enrich_tools.supabase_harness import SupabaseTestServer
from tests.support.supabase import WORKSPACE_A, WORKSPACE_B, rows

TABLES = ("leads", "emails", "jobs", "job_items")


def seed(service: Client) -> dict[str, dict[str, Any]]:
    """A lead, an email, a job and an item in each workspace; returns the leads by workspace."""
    leads: dict[str, dict[str, Any]] = {}
    for workspace, domain in ((WORKSPACE_A, "acme.com"), (WORKSPACE_B, "globex.com")):
        lead = rows(
            service.table("leads").insert(
                {"workspace_id": workspace, "company_name": domain, "domain": domain}
            )
        )[0]
        leads[workspace] = lead
        service.table("emails").insert(
            {
                "workspace_id": workspace,
                "lead_id": lead["id"],
                "email": f"ceo@{domain}",
                "source": "hunter_direct",
                "email_type": "primary",
            }
        ).execute()
        service.table("jobs").insert(
            {"workspace_id": workspace, "job_id": f"job-{workspace}", "status": "pending"}
        ).execute()
        service.table("job_items").insert(
            {
                "workspace_id": workspace,
                "job_id": f"job-{workspace}",
                "item_id": "1",
                "lead": {"domain": domain},
            }
        ).execute()
    return leads


def workspaces_seen(client: Client, table: str) -> list[str]:
    return sorted(row["workspace_id"] for row in rows(client.table(table).select("workspace_id")))


def test_a_user_sees_only_their_workspace(
    service_client: Client, user_client: Callable[[str], Client], supabase_db: SupabaseTestServer
) -> None:
    seed(service_client)
    user_a, user_b = user_client(WORKSPACE_A), user_client(WORKSPACE_B)
    for table in TABLES:
        assert workspaces_seen(user_a, table) == [WORKSPACE_A], table
        assert workspaces_seen(user_b, table) == [WORKSPACE_B], table
    embedded = rows(user_a.table("leads").select("domain, emails(email)"))
    assert embedded == [{"domain": "acme.com", "emails": [{"email": "ceo@acme.com"}]}]
    # Asking for the other workspace by name changes nothing.
    assert rows(user_a.table("leads").select("*").eq("workspace_id", WORKSPACE_B)) == []
    # A user whose token names no workspace sees nothing.
    nobody = user_client("")
    assert rows(nobody.table("leads").select("*")) == []


def test_the_service_role_sees_everything_and_anon_nothing(
    service_client: Client, anon_client: Client
) -> None:
    seed(service_client)
    for table in TABLES:
        assert workspaces_seen(service_client, table) == [WORKSPACE_A, WORKSPACE_B], table
        assert rows(anon_client.table(table).select("*")) == [], table
    with pytest.raises(APIError) as caught:
        anon_client.table("leads").insert({"company_name": "X", "domain": "x.com"}).execute()
    assert caught.value.code == "42501"


def test_a_user_cannot_write_into_another_workspace(
    service_client: Client, user_client: Callable[[str], Client], supabase_db: SupabaseTestServer
) -> None:
    leads = seed(service_client)
    user_a = user_client(WORKSPACE_A)

    with pytest.raises(APIError) as caught:
        user_a.table("leads").insert(
            {"workspace_id": WORKSPACE_B, "company_name": "X", "domain": "x.com"}
        ).execute()
    assert caught.value.code == "42501"
    with pytest.raises(APIError) as caught:  # the column default ('default') is not the user's workspace
        user_a.table("leads").insert({"company_name": "X", "domain": "x.com"}).execute()
    assert caught.value.code == "42501"
    with pytest.raises(APIError) as caught:
        user_a.table("jobs").insert(
            {"workspace_id": WORKSPACE_B, "job_id": "j", "status": "pending"}
        ).execute()
    assert caught.value.code == "42501"
    # An email of workspace A attached to B's lead: the foreign key includes the workspace.
    with pytest.raises(APIError) as caught:
        user_a.table("emails").insert(
            {
                "workspace_id": WORKSPACE_A,
                "lead_id": leads[WORKSPACE_B]["id"],
                "email": "x@globex.com",
                "source": "hunter_direct",
                "email_type": "secondary",
            }
        ).execute()
    assert caught.value.code == "23503"
    # Updates and deletes of B's rows match nothing; moving A's lead to B is refused.
    assert rows(user_a.table("leads").update({"industry": "x"}).eq("id", leads[WORKSPACE_B]["id"])) == []
    assert rows(user_a.table("leads").delete().eq("id", leads[WORKSPACE_B]["id"])) == []
    with pytest.raises(APIError) as caught:
        user_a.table("leads").update({"workspace_id": WORKSPACE_B}).eq(
            "id", leads[WORKSPACE_A]["id"]
        ).execute()
    assert caught.value.code == "42501"

    own = user_a.table("leads").insert({"workspace_id": WORKSPACE_A, "company_name": "Y", "domain": "y.com"})
    assert rows(own)[0]["workspace_id"] == WORKSPACE_A
    assert rows(user_a.table("leads").update({"industry": "Retail"}).eq("domain", "y.com"))
    stored = supabase_db.query("select workspace_id, domain, industry from leads order by domain")
    assert stored == [
        {"workspace_id": WORKSPACE_A, "domain": "acme.com", "industry": None},
        {"workspace_id": WORKSPACE_B, "domain": "globex.com", "industry": None},
        {"workspace_id": WORKSPACE_A, "domain": "y.com", "industry": "Retail"},
    ]
