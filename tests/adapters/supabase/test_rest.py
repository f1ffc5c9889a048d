"""The tables through the real stack the Lambdas will use: supabase-py -> gateway /rest/v1 -> PostgREST ->
PostgreSQL, as the service role."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest
from postgrest import APIError
from supabase import Client

from enrich_tools.supabase_harness import SupabaseTestServer
from tests.support.supabase import rows


def new_lead(client: Client, domain: str = "acme.com", **fields: Any) -> dict[str, Any]:
    data = rows(client.table("leads").insert({"company_name": domain.title(), "domain": domain, **fields}))
    assert len(data) == 1
    return data[0]


def email_row(lead_id: str, email: str, *, email_type: str = "secondary", **fields: Any) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "email": email,
        "source": "hunter_direct",
        "confidence_score": 91,
        "email_type": email_type,
        "hunter_status": "deliverable",
        "status": "active",
        **fields,
    }


def at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def test_leads_and_emails_round_trip_through_the_client(
    service_client: Client, supabase_db: SupabaseTestServer
) -> None:
    lead = new_lead(service_client, first_name="Jane", last_name="Doe", external_id="crm-1")
    assert lead["workspace_id"] == "default" and lead["id"] and lead["created_at"]
    service_client.table("emails").insert(
        [email_row(lead["id"], "jane@acme.com", email_type="primary"), email_row(lead["id"], "info@acme.com")]
    ).execute()

    found = rows(service_client.table("leads").select("domain, first_name, emails(email, email_type)"))
    assert len(found) == 1 and found[0]["first_name"] == "Jane"
    assert sorted((e["email"], e["email_type"]) for e in found[0]["emails"]) == [
        ("info@acme.com", "secondary"),
        ("jane@acme.com", "primary"),
    ]
    assert supabase_db.scalar("select count(*) from emails") == 2  # really stored


def test_upsert_on_lead_and_email_never_duplicates(
    service_client: Client, supabase_db: SupabaseTestServer
) -> None:
    lead = new_lead(service_client)
    emails = service_client.table("emails")
    emails.upsert(
        email_row(lead["id"], "jane@acme.com", confidence_score=70), on_conflict="lead_id,email"
    ).execute()
    emails.upsert(
        [email_row(lead["id"], "jane@acme.com", confidence_score=95), email_row(lead["id"], "bob@acme.com")],
        on_conflict="lead_id,email",
    ).execute()

    stored = supabase_db.query("select email, confidence_score from emails order by email")
    assert stored == [
        {"email": "bob@acme.com", "confidence_score": 91},
        {"email": "jane@acme.com", "confidence_score": 95},
    ]
    with pytest.raises(APIError) as caught:  # a plain insert of the same pair is a conflict
        emails.insert(email_row(lead["id"], "jane@acme.com")).execute()
    assert caught.value.code == "23505"


def test_a_lead_has_at_most_one_primary_email(
    service_client: Client, supabase_db: SupabaseTestServer
) -> None:
    first, second = new_lead(service_client), new_lead(service_client, "globex.com")
    emails = service_client.table("emails")
    emails.insert(email_row(first["id"], "jane@acme.com", email_type="primary")).execute()
    with pytest.raises(APIError) as caught:
        emails.insert(email_row(first["id"], "bob@acme.com", email_type="primary")).execute()
    assert caught.value.code == "23505" and "idx_emails_one_primary_per_lead" in str(caught.value.message)
    emails.insert(email_row(first["id"], "bob@acme.com", email_type="secondary")).execute()
    emails.insert(email_row(second["id"], "ceo@globex.com", email_type="primary")).execute()  # another lead
    assert supabase_db.scalar("select count(*) from emails where email_type = 'primary'") == 2


def test_check_constraints_reject_bad_values(
    service_client: Client, supabase_db: SupabaseTestServer, http: httpx.Client
) -> None:
    lead = new_lead(service_client)
    with pytest.raises(APIError) as caught:
        service_client.table("emails").insert(email_row(lead["id"], "x@acme.com", source="guessed")).execute()
    assert caught.value.code == "23514" and "emails_source_check" in str(caught.value.message)

    headers = {
        "apikey": supabase_db.service_role_key,
        "Authorization": f"Bearer {supabase_db.service_role_key}",
    }
    for bad in (
        {"source": "guessed"},
        {"confidence_score": 101},
        {"email_type": "tertiary"},
        {"status": "gone"},
    ):
        response = http.post("/emails", json=email_row(lead["id"], "x@acme.com", **bad), headers=headers)
        assert response.status_code == 400, bad
        assert response.json()["code"] == "23514", bad
    with pytest.raises(APIError) as caught:
        service_client.table("jobs").insert({"job_id": "j1", "status": "pending", "priority": 9}).execute()
    assert caught.value.code == "23514"
    assert supabase_db.scalar("select count(*) from emails") == 0


def test_updated_at_is_set_by_the_database(service_client: Client) -> None:
    lead = new_lead(service_client)
    assert lead["updated_at"] == lead["created_at"]
    time.sleep(0.01)
    updated = rows(service_client.table("leads").update({"industry": "Software"}).eq("id", lead["id"]))[0]
    assert at(updated["updated_at"]) > at(lead["updated_at"]) and updated["created_at"] == lead["created_at"]

    service_client.table("jobs").insert({"job_id": "j1", "status": "pending"}).execute()
    service_client.table("job_items").insert(
        {"job_id": "j1", "item_id": "000001", "lead": {"domain": "acme.com"}}
    ).execute()
    for table, match in (("jobs", {"job_id": "j1"}), ("job_items", {"item_id": "000001"})):
        before = rows(service_client.table(table).select("updated_at").match(match))[0]["updated_at"]
        time.sleep(0.01)
        after = rows(service_client.table(table).update({"status": "running"}).match(match))[0]
        assert at(after["updated_at"]) > at(before), table


def test_jobs_and_items_hold_the_runtime_model(
    service_client: Client, supabase_db: SupabaseTestServer
) -> None:
    job = rows(
        service_client.table("jobs").insert(
            {
                "job_id": "job-1",
                "workspace_id": "ws",
                "status": "pending",
                "priority": 1,
                "max_attempts": 3,
                "tags": ["q3", "emea"],
                "webhook_url": "https://example.com/hook",
                "idempotency_key": "key-1",
                "credits_hunter": 1.5,
                "cost_perplexity_usd": 0.012,
            }
        )
    )[0]
    assert job["tags"] == ["q3", "emea"] and job["found_leads"] == 0 and job["credits_hunter"] == 1.5
    items = service_client.table("job_items")
    items.insert(
        [
            {"workspace_id": "ws", "job_id": "job-1", "item_id": f"{n:06d}", "lead": {"domain": f"d{n}.com"}}
            for n in range(3)
        ]
    ).execute()
    stored = rows(items.select("item_id, status, attempts, lead").order("item_id"))
    assert [(i["item_id"], i["status"], i["attempts"]) for i in stored] == [
        ("000000", "queued", 0),
        ("000001", "queued", 0),
        ("000002", "queued", 0),
    ]
    assert stored[0]["lead"] == {"domain": "d0.com"}

    with pytest.raises(APIError) as caught:  # an item status outside ItemStatus
        items.insert(
            {"workspace_id": "ws", "job_id": "job-1", "item_id": "x", "lead": {}, "status": "done"}
        ).execute()
    assert caught.value.code == "23514"
    with pytest.raises(APIError) as caught:  # an item of another workspace than its job's
        items.insert({"workspace_id": "other", "job_id": "job-1", "item_id": "y", "lead": {}}).execute()
    assert caught.value.code == "23503"
    with pytest.raises(APIError) as caught:  # one idempotency key per workspace...
        service_client.table("jobs").insert(
            {"job_id": "job-2", "workspace_id": "ws", "status": "pending", "idempotency_key": "key-1"}
        ).execute()
    assert caught.value.code == "23505"
    service_client.table("jobs").insert(  # ...but another workspace may use it
        {"job_id": "job-3", "workspace_id": "ws-2", "status": "pending", "idempotency_key": "key-1"}
    ).execute()

    service_client.table("jobs").delete().eq("job_id", "job-1").execute()
    assert supabase_db.scalar("select count(*) from job_items") == 0  # items go with their job


def test_deleting_a_lead_deletes_its_emails_and_unlinks_its_items(
    service_client: Client, supabase_db: SupabaseTestServer
) -> None:
    lead = new_lead(service_client)
    service_client.table("emails").insert(email_row(lead["id"], "jane@acme.com")).execute()
    service_client.table("jobs").insert({"job_id": "j", "status": "pending"}).execute()
    service_client.table("job_items").insert(
        {"job_id": "j", "item_id": "1", "lead": {"domain": "acme.com"}, "lead_id": lead["id"]}
    ).execute()
    service_client.table("leads").delete().eq("id", lead["id"]).execute()
    assert supabase_db.scalar("select count(*) from emails") == 0
    assert supabase_db.query("select lead_id from job_items") == [{"lead_id": None}]
