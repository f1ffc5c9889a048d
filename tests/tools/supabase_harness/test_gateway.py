"""The gateway: /rest/v1 only with a project key, everything else passed through to PostgREST as is."""

from __future__ import annotations

import httpx

from enrich_tools.supabase_harness import SupabaseTestServer


def service_headers(server: SupabaseTestServer) -> dict[str, str]:
    return {"apikey": server.service_role_key, "Authorization": f"Bearer {server.service_role_key}"}


def test_requests_without_a_project_key_are_refused(
    supabase_db: SupabaseTestServer, http: httpx.Client
) -> None:
    supabase_db.sql("insert into leads (company_name, domain) values ('Acme', 'acme.com')")
    bearer = {"Authorization": f"Bearer {supabase_db.service_role_key}"}
    missing = http.get("/leads", headers=bearer)
    assert missing.status_code == 401 and missing.json() == {"message": "No API key found in request"}
    wrong = http.get("/leads", headers={**bearer, "apikey": supabase_db.user_token("ws-a")})
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid API key"
    assert http.get("/leads", headers=service_headers(supabase_db)).json()[0]["domain"] == "acme.com"
    # Only /rest/v1 is routed.
    assert httpx.get(f"{supabase_db.url}/leads", headers=service_headers(supabase_db)).status_code == 404


def test_postgrest_checks_the_jwt(supabase_db: SupabaseTestServer, http: httpx.Client) -> None:
    """A valid project key with a token PostgREST cannot verify (expired, or signed with another secret)."""
    expired = supabase_db.user_token("ws-a", expires_in=-120)
    response = http.get(
        "/leads", headers={"apikey": supabase_db.anon_key, "Authorization": f"Bearer {expired}"}
    )
    assert response.status_code == 401 and response.json()["code"] == "PGRST301"
    forged = SupabaseTestServer().service_role_key  # another run's secret
    response = http.get(
        "/leads", headers={"apikey": supabase_db.anon_key, "Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401


def test_headers_status_and_bodies_pass_through(supabase_db: SupabaseTestServer, http: httpx.Client) -> None:
    headers = service_headers(supabase_db)
    rows = [{"company_name": f"C{n}", "domain": f"c{n}.com"} for n in range(5)]
    created = http.post("/leads", json=rows, headers={**headers, "Prefer": "return=minimal"})
    assert created.status_code == 201 and created.content == b""

    counted = http.get(
        "/leads?select=domain&order=domain.asc",
        headers={**headers, "Prefer": "count=exact", "Range": "1-2", "Range-Unit": "items"},
    )
    assert counted.status_code == 206
    assert counted.headers["content-range"] == "1-2/5"
    assert counted.headers["preference-applied"] == "count=exact"
    assert counted.json() == [{"domain": "c1.com"}, {"domain": "c2.com"}]
    assert len(counted.headers.get_list("date")) == 1  # one Date header, not the gateway's and PostgREST's

    # Percent-encoded filters reach PostgREST unchanged.
    encoded = http.get("/leads?domain=in.%28c0.com%2Cc3.com%29&select=domain&order=domain", headers=headers)
    assert encoded.json() == [{"domain": "c0.com"}, {"domain": "c3.com"}]

    head = http.head("/leads", headers={**headers, "Prefer": "count=exact"})
    assert head.status_code == 200 and head.headers["content-range"].endswith("/5")

    patched = http.patch(
        "/leads?domain=eq.c4.com",
        json={"industry": "Retail"},
        headers={**headers, "Prefer": "return=representation", "Accept": "application/vnd.pgrst.object+json"},
    )
    assert patched.status_code == 200 and patched.json()["industry"] == "Retail"

    unknown_schema = http.get("/leads", headers={**headers, "Accept-Profile": "private"})
    assert unknown_schema.status_code == 406 and unknown_schema.json()["code"] == "PGRST106"
    unknown_schema = http.post("/leads", json=rows[0], headers={**headers, "Content-Profile": "private"})
    assert unknown_schema.status_code == 406 and unknown_schema.json()["code"] == "PGRST106"
    bad_body = http.post(
        "/leads", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert bad_body.status_code == 400 and bad_body.json()["code"] == "PGRST102"
    deleted = http.delete("/leads?domain=eq.c0.com", headers=headers)
    assert deleted.status_code == 204
    assert supabase_db.scalar("select count(*) from leads") == 4
