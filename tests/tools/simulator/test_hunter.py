"""Hunter v2 fake over real HTTP: payload shapes, every status path, billing and throttling."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from enrich_tools.simulator import Company, SimulatorServer
from enrich_tools.simulator.hunter_answers import domain_rows
from tests.support.simulator import HUNTER_KEY

UNAUTHORIZED = {"errors": [{"id": "unauthorized", "code": 401, "details": "Invalid API key."}]}


def first_company(sim: SimulatorServer, test: Callable[[Company], bool]) -> Company:
    return next(c for c in sim.world.companies if not c.showcase and test(c))


def error_id(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["id"])


def get_all(sim: SimulatorServer, path: str, params: list[dict[str, Any]]) -> list[httpx.Response]:
    """Every request at once, one connection each, so their simulated latencies overlap."""

    def one(query: dict[str, Any]) -> httpx.Response:
        return httpx.get(f"{sim.hunter_base_url}{path}", params={**query, "api_key": HUNTER_KEY}, timeout=30)

    with ThreadPoolExecutor(max_workers=len(params)) as pool:
        return list(pool.map(one, params))


def valid_emails(sim: SimulatorServer, count: int) -> list[str]:
    """Mailboxes the verifier answers `valid` (a charged status) for."""
    companies = [
        c for c in sim.world.companies if c.kind == "indexed" and not c.accept_all and not c.showcase
    ]
    emails = [
        p.email for c in companies for p in c.people if p.email and not p.claimed and not p.left_company
    ]
    return emails[:count]


# --- Domain Search


def test_domain_search_payload_has_the_documented_shape(hunter: httpx.Client) -> None:
    response = hunter.get("/domain-search", params={"domain": "acme-robotics.com"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]
    body = response.json()
    data, meta = body["data"], body["meta"]
    assert data["domain"] == "acme-robotics.com"
    assert data["pattern"] == "{first}.{last}"
    assert data["organization"] == "Acme Robotics Inc."
    assert data["accept_all"] is False
    assert data["webmail"] is False
    assert data["disposable"] is False
    assert meta["results"] == len(data["emails"])
    assert meta["limit"] == 10
    assert meta["offset"] == 0
    assert set(meta["params"]) == {"domain", "company", "type", "seniority", "department"}
    ceo = next(row for row in data["emails"] if row["value"] == "sarah.obrien@acme-robotics.com")
    assert ceo["position"] == "CEO"
    assert ceo["seniority"] == "executive"
    assert ceo["confidence"] == 97
    assert ceo["verification"] == {"date": "2026-06-10", "status": "valid"}
    for row in data["emails"]:
        assert set(row["verification"]) == {"date", "status"}
        assert isinstance(row["confidence"], int)
        assert row["type"] in ("personal", "generic")
    stale = next(row for row in data["emails"] if row["value"] == "robert.miller@acme-robotics.com")
    assert stale["verification"] == {"date": None, "status": None}
    assert stale["sources"][0]["still_on_page"] is False


def test_domain_search_pattern_is_null_when_hunter_does_not_know_it(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    unknown = first_company(sim, lambda c: c.kind == "unknown")
    data = hunter.get("/domain-search", params={"domain": unknown.domain}).json()["data"]
    assert data["pattern"] is None
    assert data["emails"] == []
    assert (
        hunter.get("/domain-search", params={"domain": "maison-dupont.fr"}).json()["data"]["pattern"] is None
    )


@pytest.mark.parametrize(("domain", "flag"), [("gmail.com", "webmail"), ("mailinator.com", "disposable")])
def test_webmail_and_disposable_domains_have_no_rows(hunter: httpx.Client, domain: str, flag: str) -> None:
    body = hunter.get("/domain-search", params={"domain": domain}).json()
    assert body["data"][flag] is True
    assert body["data"]["emails"] == []
    assert body["meta"]["results"] == 0


def test_pagination_and_filters(sim: SimulatorServer, hunter: httpx.Client) -> None:
    big = first_company(sim, lambda c: c.kind == "indexed" and len(domain_rows(sim.world, c)) >= 14)
    total = len(domain_rows(sim.world, big))
    first = hunter.get("/domain-search", params={"domain": big.domain, "limit": 5}).json()
    second = hunter.get("/domain-search", params={"domain": big.domain, "limit": 5, "offset": 5}).json()
    assert first["meta"]["results"] == second["meta"]["results"] == total
    assert len(first["data"]["emails"]) == 5
    assert second["meta"]["offset"] == 5
    assert not {r["value"] for r in first["data"]["emails"]} & {r["value"] for r in second["data"]["emails"]}
    generic = hunter.get(
        "/domain-search", params={"domain": big.domain, "type": "generic", "limit": 100}
    ).json()
    assert generic["data"]["emails"]
    assert {row["type"] for row in generic["data"]["emails"]} == {"generic"}
    params: dict[str, str | int] = {"domain": big.domain, "seniority": "executive,senior", "limit": 100}
    senior = hunter.get("/domain-search", params=params).json()["data"]["emails"]
    assert senior
    assert {row["seniority"] for row in senior} <= {"executive", "senior"}
    it = hunter.get("/domain-search", params={"domain": big.domain, "department": "it", "limit": 100}).json()
    assert {row["department"] for row in it["data"]["emails"]} <= {"it"}
    by_name = hunter.get("/domain-search", params={"company": big.name}).json()
    assert by_name["data"]["domain"] == big.domain


def test_domain_search_bills_one_credit_per_ten_rows_and_nothing_for_zero(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    big = first_company(sim, lambda c: len(domain_rows(sim.world, c)) >= 21)
    rows = len(domain_rows(sim.world, big))
    assert hunter.get("/domain-search", params={"domain": big.domain, "limit": 100}).status_code == 200
    assert sim.ledger.credits("hunter.domain_search") == math.ceil(rows / 10)
    unknown = first_company(sim, lambda c: c.kind == "unknown")
    assert hunter.get("/domain-search", params={"domain": unknown.domain}).status_code == 200
    assert sim.ledger.credits("hunter.domain_search") == math.ceil(rows / 10)
    hunter.get("/domain-search", params={"domain": big.domain, "limit": 100})  # the same input again: free
    assert sim.ledger.credits("hunter.domain_search") == math.ceil(rows / 10)
    sim.configure(duplicate_requests_free=False)
    hunter.get("/domain-search", params={"domain": big.domain, "limit": 100})
    assert sim.ledger.credits("hunter.domain_search") == 2 * math.ceil(rows / 10)


def test_free_plan_caps_limit_at_ten(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(free_plan=True)
    response = hunter.get("/domain-search", params={"domain": "acme-robotics.com", "limit": 11})
    assert response.status_code == 400
    assert error_id(response) == "wrong_params"
    assert (
        hunter.get("/domain-search", params={"domain": "acme-robotics.com", "limit": 10}).status_code == 200
    )


# --- validation and authentication


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/domain-search", {}, "wrong_params"),
        ("/domain-search", {"domain": "foo"}, "invalid_domain"),
        ("/domain-search", {"domain": "acme-robotics.com", "type": "boss"}, "invalid_type"),
        ("/domain-search", {"domain": "acme-robotics.com", "limit": "many"}, "wrong_params"),
        ("/domain-search", {"domain": "acme-robotics.com", "seniority": "intern"}, "wrong_params"),
        ("/email-finder", {"domain": "acme-robotics.com"}, "wrong_params"),
        ("/email-finder", {"first_name": "Sarah", "last_name": "O'Brien"}, "wrong_params"),
        (
            "/email-finder",
            {"domain": "acme-robotics.com", "first_name": "S4rah", "last_name": "X"},
            "invalid_first_name",
        ),
        (
            "/email-finder",
            {"domain": "acme-robotics.com", "first_name": "Sarah", "last_name": "1"},
            "invalid_last_name",
        ),
        ("/email-finder", {"domain": "acme-robotics.com", "full_name": "Sarah"}, "invalid_full_name"),
        (
            "/email-finder",
            {"domain": "acme-robotics.com", "full_name": "Sarah Kim", "max_duration": 2},
            "invalid_max_duration",
        ),
        (
            "/email-finder",
            {"domain": "acme-robotics.com", "full_name": "Sarah Kim", "max_duration": 21},
            "invalid_max_duration",
        ),
        ("/email-finder", {"domain": "nope", "full_name": "Sarah Kim"}, "invalid_domain"),
        ("/email-verifier", {}, "wrong_params"),
        ("/email-verifier", {"email": "not-an-email"}, "invalid_email"),
        ("/email-count", {"domain": "acme-robotics.com", "type": "boss"}, "invalid_type"),
    ],
)
def test_bad_parameters_get_400_with_the_documented_id(
    hunter: httpx.Client, path: str, params: dict[str, str | int], expected: str
) -> None:
    response = hunter.get(path, params=params)
    assert response.status_code == 400
    assert error_id(response) == expected
    assert response.json()["errors"][0]["code"] == 400


def test_the_key_is_read_from_query_header_or_bearer(sim: SimulatorServer) -> None:
    sim.configure(accept_any_key=False)
    url = f"{sim.hunter_base_url}/account"
    assert httpx.get(url, params={"api_key": "sim-hunter-key"}).status_code == 200
    assert httpx.get(url, headers={"X-API-KEY": "sim-hunter-key"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": "Bearer sim-hunter-key"}).status_code == 200
    for response in (httpx.get(url), httpx.get(url, params={"api_key": "wrong"})):
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
    sim.configure(accept_any_key=True)
    assert httpx.get(url, params={"api_key": "anything"}).status_code == 200


def test_test_key_returns_the_dummy_payload_on_three_endpoints_only(sim: SimulatorServer) -> None:
    key = {"api_key": "test-api-key"}
    base = sim.hunter_base_url
    search = httpx.get(f"{base}/domain-search", params={**key, "domain": "brightlane.co.uk"}).json()
    assert search["data"]["domain"] == "acme.com"
    assert httpx.get(f"{base}/email-finder", params={**key, "domain": "x.com", "full_name": "A B"}).json()[
        "data"
    ]["email"] == ("olivia.martin@acme.com")
    assert (
        httpx.get(f"{base}/email-verifier", params={**key, "email": "a@b.com"}).json()["data"]["status"]
        == "valid"
    )
    assert httpx.get(f"{base}/email-verifier", params=key).status_code == 400  # parameters still validated
    assert httpx.get(f"{base}/account", params=key).status_code == 401
    assert httpx.get(f"{base}/email-count", params={**key, "domain": "acme.com"}).status_code == 401
    assert sim.ledger.credits() == 0


# --- Email Finder


@pytest.mark.parametrize(
    ("params", "email"),
    [
        ({"first_name": "Jürgen", "last_name": "Müller"}, "j.mueller@nordlicht-energie.de"),
        ({"first_name": "JUERGEN", "last_name": "mueller"}, "j.mueller@nordlicht-energie.de"),
        ({"full_name": "Jurgen Muller"}, "j.mueller@nordlicht-energie.de"),
    ],
)
def test_finder_matches_names_tolerantly(hunter: httpx.Client, params: dict[str, str], email: str) -> None:
    response = hunter.get("/email-finder", params={"domain": "nordlicht-energie.de", **params})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["email"] == email
    assert 70 <= data["score"] <= 99
    assert set(data["verification"]) == {"date", "status"}


@pytest.mark.parametrize("full_name", ["Pieter van der Berg", "pieter VANDERBERG", "Pieter Berg"])
def test_finder_handles_particles(hunter: httpx.Client, full_name: str) -> None:
    data = hunter.get("/email-finder", params={"domain": "brightlane.co.uk", "full_name": full_name}).json()[
        "data"
    ]
    assert data["email"] == "pieter.vanderberg@brightlane.co.uk"
    assert data["position"] == "Co-founder & CEO"
    assert data["linkedin_url"] is None or data["linkedin_url"].startswith("https://")


def test_finder_not_found_is_a_free_200_with_nulls(sim: SimulatorServer, hunter: httpx.Client) -> None:
    response = hunter.get("/email-finder", params={"domain": "acme-robotics.com", "full_name": "Nobody Here"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["email"] is None
    assert data["score"] is None
    assert data["accept_all"] is None
    assert response.json()["meta"]["params"]["full_name"] == "Nobody Here"
    assert sim.ledger.credits("hunter.email_finder") == 0
    hunter.get("/email-finder", params={"domain": "acme-robotics.com", "full_name": "Sarah O'Brien"})
    assert sim.ledger.credits("hunter.email_finder") == 1


def test_finder_guesses_on_accept_all_domains_with_a_low_score(hunter: httpx.Client) -> None:
    data = hunter.get(
        "/email-finder", params={"domain": "globex-analytics.io", "full_name": "Nobody Here"}
    ).json()
    assert data["data"]["email"] == "nobody@globex-analytics.io"
    assert data["data"]["score"] < 60
    assert data["data"]["accept_all"] is True
    ceo = hunter.get(
        "/email-finder", params={"domain": "globex-analytics.io", "full_name": "Marco De Luca"}
    ).json()
    assert ceo["data"]["email"] == "marco@globex-analytics.io"
    assert ceo["data"]["score"] < 74  # lower than Hunter's confidence on a normal domain


def test_finder_on_a_domain_without_mx_is_invalid_domain(sim: SimulatorServer, hunter: httpx.Client) -> None:
    dead = first_company(sim, lambda c: c.kind == "no_mx")
    response = hunter.get("/email-finder", params={"domain": dead.domain, "full_name": "Any Person"})
    assert response.status_code == 400
    assert error_id(response) == "invalid_domain"


def test_max_duration_bounds_the_latency(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(time_scale=0.1, latency_email_finder=[50.0, 50.0])
    started = time.monotonic()
    hunter.get(
        "/email-finder",
        params={"domain": "acme-robotics.com", "full_name": "Sarah O'Brien", "max_duration": 3},
    )
    assert 0.25 < time.monotonic() - started < 1.5


def test_claimed_people_answer_451_and_are_not_listed(hunter: httpx.Client) -> None:
    finder = hunter.get(
        "/email-finder", params={"domain": "brightlane.co.uk", "full_name": "Aoife O'Sullivan"}
    )
    assert finder.status_code == 451
    assert error_id(finder) == "claimed_email"
    verifier = hunter.get("/email-verifier", params={"email": "aoife.osullivan@brightlane.co.uk"})
    assert verifier.status_code == 451
    rows = hunter.get("/domain-search", params={"domain": "brightlane.co.uk"}).json()["data"]["emails"]
    assert "aoife.osullivan@brightlane.co.uk" not in {row["value"] for row in rows}


# --- Email Verifier


@pytest.mark.parametrize(
    ("email", "status", "result"),
    [
        ("sarah.obrien@acme-robotics.com", "valid", "deliverable"),
        ("sarah.o.brien@acme-robotics.com", "invalid", "undeliverable"),
        ("robert.miller@acme-robotics.com", "invalid", "undeliverable"),  # left the company
        ("anything@globex-analytics.io", "accept_all", "risky"),
        ("marco@globex-analytics.io", "accept_all", "risky"),
        ("someone@gmail.com", "webmail", "risky"),
        ("someone@mailinator.com", "disposable", "risky"),
        ("ceo@no-such-company-here.com", "invalid", "undeliverable"),
    ],
)
def test_verifier_statuses(hunter: httpx.Client, email: str, status: str, result: str) -> None:
    response = hunter.get("/email-verifier", params={"email": email})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == status
    assert data["result"] == result
    assert data["email"] == email
    if status == "valid":
        assert 85 <= data["score"] <= 99


def test_verifier_charges_only_valid_invalid_and_accept_all(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    for email in ("sarah.obrien@acme-robotics.com", "nobody@acme-robotics.com", "x@globex-analytics.io"):
        hunter.get("/email-verifier", params={"email": email})
    assert sim.ledger.credits("hunter.email_verifier") == 3
    hunter.get("/email-verifier", params={"email": "someone@gmail.com"})
    hunter.get("/email-verifier", params={"email": "someone@mailinator.com"})
    sim.configure(share_unknown=1.0)
    unknown = hunter.get("/email-verifier", params={"email": "daniel.kim@acme-robotics.com"}).json()["data"]
    assert unknown["status"] == "unknown"
    assert sim.ledger.credits("hunter.email_verifier") == 3
    hunter.get("/email-verifier", params={"email": "sarah.obrien@acme-robotics.com"})  # duplicate: free
    assert sim.ledger.credits("hunter.email_verifier") == 3


def test_unified_plan_charges_half_a_credit(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(billing_plan="unified")
    hunter.get("/email-verifier", params={"email": "sarah.obrien@acme-robotics.com"})
    assert sim.ledger.credits("hunter.email_verifier") == 0.5
    account = hunter.get("/account").json()["data"]
    assert account["requests"]["verifications"]["used"] == 0.5


def test_202_for_the_first_polls_then_200_charged_once(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(share_202=1.0, polls_202=2)
    params = {"email": "daniel.kim@acme-robotics.com"}
    first, second = hunter.get("/email-verifier", params=params), hunter.get("/email-verifier", params=params)
    assert [first.status_code, second.status_code] == [202, 202]
    assert first.content == b"" and "retry-after" not in first.headers  # Hunter says nothing of when
    final = hunter.get("/email-verifier", params=params)
    assert final.status_code == 200
    assert final.json()["data"]["status"] == "valid"
    assert hunter.get("/email-verifier", params=params).status_code == 200  # settled: no new 202
    assert sim.ledger.credits("hunter.email_verifier") == 1
    assert sim.ledger.status_count("hunter.email_verifier", 202) == 2


def test_a_202_carries_the_retry_after_it_is_told_to(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(share_202=1.0, polls_202=1, retry_after_202=2)
    params = {"email": "daniel.kim@acme-robotics.com"}
    pending = hunter.get("/email-verifier", params=params)
    assert (pending.status_code, pending.headers.get("retry-after")) == (202, "2")
    assert hunter.get("/email-verifier", params=params).status_code == 200


def test_222_is_a_free_retryable_failure(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(share_222=1.0)
    response = hunter.get("/email-verifier", params={"email": "sarah.obrien@acme-robotics.com"})
    assert response.status_code == 222
    assert sim.ledger.credits() == 0
    assert sim.ledger.status_count("hunter", 222) == 1


# --- quota, throttling, server errors


@pytest.mark.parametrize(
    ("mode", "status", "expected"), [("429", 429, "too_many_requests"), ("402", 402, "payment_required")]
)
def test_exhausted_quota(
    sim: SimulatorServer, hunter: httpx.Client, mode: str, status: int, expected: str
) -> None:
    sim.configure(search_credits=1.0, quota_mode=mode)
    assert hunter.get("/domain-search", params={"domain": "acme-robotics.com"}).status_code == 200
    refused = hunter.get("/domain-search", params={"domain": "brightlane.co.uk"})
    assert refused.status_code == status
    assert error_id(refused) == expected
    assert (
        hunter.get("/domain-search", params={"domain": "acme-robotics.com"}).status_code == 200
    )  # duplicate
    assert hunter.get("/email-count", params={"domain": "brightlane.co.uk"}).status_code == 200  # free
    account = hunter.get("/account").json()["data"]
    assert account["requests"]["searches"] == {"used": 1, "available": 1}
    assert account["reset_date"] == "2026-07-01"


def test_concurrent_domain_searches_never_spend_more_than_the_quota(sim: SimulatorServer) -> None:
    sim.configure(search_credits=2.0, time_scale=1.0, latency_domain_search=[0.3, 0.3])
    one_credit = [
        c.domain
        for c in sim.world.companies
        if c.kind == "indexed" and 1 <= len(domain_rows(sim.world, c)) <= 10
    ][:12]
    responses = get_all(sim, "/domain-search", [{"domain": d} for d in one_credit])
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 2
    assert statuses.count(429) == 10
    assert sim.ledger.used("searches") == 2
    assert {error_id(r) for r in responses if r.status_code == 429} == {"too_many_requests"}


def test_concurrent_verifications_never_spend_more_than_the_quota(sim: SimulatorServer) -> None:
    sim.configure(
        verification_credits=2.0, quota_mode="402", time_scale=1.0, latency_email_verifier=[0.3, 0.3]
    )
    responses = get_all(sim, "/email-verifier", [{"email": e} for e in valid_emails(sim, 12)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 2
    assert statuses.count(402) == 10
    assert sim.ledger.used("verifications") == 2
    account = httpx.get(f"{sim.hunter_base_url}/account", params={"api_key": HUNTER_KEY}).json()["data"]
    assert account["requests"]["verifications"] == {"used": 2, "available": 2}


def test_domain_search_quota_check_uses_the_real_cost(sim: SimulatorServer, hunter: httpx.Client) -> None:
    big = first_company(sim, lambda c: len(domain_rows(sim.world, c)) >= 21)
    sim.configure(search_credits=2.0)
    refused = hunter.get("/domain-search", params={"domain": big.domain, "limit": 100})
    assert refused.status_code == 429  # three credits or more needed, two left
    assert sim.ledger.used("searches") == 0
    assert hunter.get("/domain-search", params={"domain": big.domain, "limit": 20}).status_code == 200
    assert sim.ledger.used("searches") == 2


def test_rate_limit_403_mode(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(domain_search_rps=2)
    statuses = [
        hunter.get("/domain-search", params={"domain": "acme-robotics.com"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 403]
    assert hunter.get("/email-count", params={"domain": "acme-robotics.com"}).status_code == 200  # own bucket
    other_key = httpx.get(
        f"{sim.hunter_base_url}/domain-search", params={"domain": "x.com", "api_key": "other"}
    )
    assert other_key.status_code == 200  # per key
    assert sim.ledger.status_count("hunter", 403) == 1
    time.sleep(1.05)
    assert hunter.get("/domain-search", params={"domain": "acme-robotics.com"}).status_code == 200


def test_rate_limit_429_mode_with_retry_after(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(rate_limit_mode="429", email_verifier_rps=100, email_verifier_rpm=2)
    params = {"email": "sarah.obrien@acme-robotics.com"}
    responses = [hunter.get("/email-verifier", params=params) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert 1 <= int(responses[2].headers["retry-after"]) <= 60
    assert error_id(responses[2]) == "too_many_requests"
    sim.configure(retry_after=False)
    assert "retry-after" not in hunter.get("/email-verifier", params=params).headers


def test_injected_5xx_with_html_or_json_bodies(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(share_5xx=1.0, share_html_5xx=1.0)
    html = hunter.get("/domain-search", params={"domain": "acme-robotics.com"})
    assert html.status_code in (500, 502, 503)
    assert html.headers["content-type"].startswith("text/html")
    sim.configure(share_html_5xx=0.0)
    plain = hunter.get("/email-verifier", params={"email": "sarah.obrien@acme-robotics.com"})
    assert plain.status_code in (500, 502, 503)
    assert plain.json()["errors"][0]["code"] == plain.status_code
    assert sim.ledger.credits() == 0


def test_failures_replay_for_the_same_seed_and_request_order(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    def run() -> list[int]:
        sim.reset()
        sim.configure(share_5xx=0.3, share_222=0.3)
        return [
            hunter.get("/email-verifier", params={"email": f"p{i}@acme-robotics.com"}).status_code
            for i in range(30)
        ]

    first = run()
    assert first == run()
    assert len(set(first)) > 1


def verifier_outcome(response: httpx.Response) -> str:
    if response.status_code == 200:
        return str(response.json()["data"]["status"])
    return str(response.status_code)


FAULTS = {"share_5xx": 0.25, "share_222": 0.25, "share_202": 0.25, "share_unknown": 0.5}


def test_faults_are_drawn_per_input_whatever_the_order_or_concurrency(sim: SimulatorServer) -> None:
    emails = valid_emails(sim, 16) + [f"p{i}@acme-robotics.com" for i in range(16)]

    def outcomes(order: list[str], concurrently: bool) -> dict[str, str]:
        sim.reset()
        sim.configure(**FAULTS)
        if concurrently:
            responses = get_all(sim, "/email-verifier", [{"email": e} for e in order])
        else:
            with httpx.Client(base_url=sim.hunter_base_url, headers={"X-API-KEY": HUNTER_KEY}) as client:
                responses = [client.get("/email-verifier", params={"email": e}) for e in order]
        return {e: verifier_outcome(r) for e, r in zip(order, responses, strict=True)}

    forward = outcomes(emails, concurrently=False)
    assert outcomes(emails[::-1], concurrently=False) == forward
    assert outcomes(emails[1::2] + emails[::2], concurrently=True) == forward
    assert {"valid", "unknown", "202", "222"} <= set(forward.values())


def test_one_fault_share_does_not_move_the_others(sim: SimulatorServer, hunter: httpx.Client) -> None:
    emails = valid_emails(sim, 24)

    def outcomes(**knobs: object) -> list[str]:
        sim.reset()
        sim.configure(**knobs)
        return [verifier_outcome(hunter.get("/email-verifier", params={"email": e})) for e in emails]

    alone = outcomes(share_unknown=0.5)
    with_5xx = outcomes(share_unknown=0.5, share_5xx=0.3)
    served = [i for i, outcome in enumerate(with_5xx) if outcome in ("valid", "unknown")]
    assert 0 < len(served) < len(emails)
    assert [with_5xx[i] for i in served] == [alone[i] for i in served]


def test_a_retried_failure_draws_anew_and_can_succeed(sim: SimulatorServer, hunter: httpx.Client) -> None:
    sim.configure(share_222=0.5, share_5xx=0.3)
    email = valid_emails(sim, 1)[0]
    statuses = [hunter.get("/email-verifier", params={"email": email}).status_code for _ in range(20)]
    assert {200, 222} <= set(statuses)
    assert set(statuses) - {200, 222} <= {500, 502, 503}


def test_email_count_and_account_are_free(sim: SimulatorServer, hunter: httpx.Client) -> None:
    count = hunter.get("/email-count", params={"domain": "acme-robotics.com"}).json()["data"]
    rows = domain_rows(sim.world, sim.world.company("acme-robotics.com"))
    assert count["total"] == len(rows)
    assert count["personal_emails"] + count["generic_emails"] == count["total"]
    assert set(count["seniority"]) == {"junior", "senior", "executive"}
    assert "executive" in count["department"]
    account = hunter.get("/account").json()["data"]
    assert account["plan_name"] == "Growth"
    assert account["requests"]["searches"]["used"] == 0
    assert sim.ledger.credits() == 0
    assert sim.ledger.calls("hunter") == 2
