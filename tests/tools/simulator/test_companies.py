"""The simulated Hunter's company routes over real HTTP: `/companies/find`'s Clearbit-shaped answer, its
404 and billing, `/discover`'s name filter and brand twins, what they refuse, and the directory's
determinism (the same firmographics in every run)."""

from __future__ import annotations

from typing import Any

import httpx

from enrich_tools.simulator import SimulatorServer, World
from enrich_tools.simulator.company_directory import MISSING_SHARE, TWIN_SHARE, Directory, directory_of


def test_companies_find_answers_a_clearbit_shaped_company(sim: SimulatorServer, hunter: httpx.Client) -> None:
    response = hunter.get("/companies/find", params={"domain": "https://www.Acme-Robotics.com/about"})
    assert response.status_code == 200 and response.headers["x-simulated"] == "true"
    body = response.json()
    data = body["data"]
    assert body["meta"] == {"params": {"domain": "acme-robotics.com"}}
    assert (data["name"], data["domain"]) == ("Acme Robotics Inc.", "acme-robotics.com")
    assert data["category"]["industry"] == "Machinery" and data["geo"]["countryCode"] == "US"
    assert data["metrics"]["employees"] in {"1-10", "11-50", "51-200", "201-500"}
    assert data["linkedin"] == {"handle": "company/acme-robotics"}
    assert isinstance(data["foundedYear"], int) and data["description"] and data["tech"]
    assert sim.ledger.snapshot()["credits"]["hunter.companies_find"] == 1


def test_an_unknown_company_is_a_404_and_free(sim: SimulatorServer, hunter: httpx.Client) -> None:
    unknown = next(c.domain for c in sim.world.companies if c.kind == "unknown")
    for domain in (unknown, "no-such-company-anywhere.com"):
        response = hunter.get("/companies/find", params={"domain": domain})
        assert response.status_code == 404
        assert response.json()["errors"][0]["id"] == "not_found"
    assert sim.ledger.snapshot()["credits_search"] == 0


def test_companies_find_refuses_bad_input_and_the_test_key(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    assert hunter.get("/companies/find").json()["errors"][0]["id"] == "wrong_params"
    assert hunter.get("/companies/find", params={"domain": "not a domain"}).status_code == 400
    # Hunter's test key covers Domain Search, Email Finder and Email Verifier only.
    test_key = hunter.get(
        "/companies/find", params={"domain": "acme-robotics.com", "api_key": "test-api-key"}
    )
    assert test_key.status_code == 401


def test_a_spent_quota_refuses_a_company_that_would_be_billed(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    sim.configure(search_credits=0.0)
    refused = hunter.get("/companies/find", params={"domain": "acme-robotics.com"})
    assert refused.status_code == 429 and refused.json()["errors"][0]["id"] == "too_many_requests"


def test_discover_filters_companies_by_organization_name(sim: SimulatorServer, hunter: httpx.Client) -> None:
    response = hunter.post("/discover", json={"organization": {"name": ["brightlane"]}})
    assert response.status_code == 200
    body = response.json()
    by_domain = {row["domain"]: row for row in body["data"]}
    assert by_domain["brightlane.co.uk"]["organization"] == "Brightlane Ltd"
    assert by_domain["brightlane.io"]["organization"] == "Brightlane Inc."
    assert by_domain["brightlane.co.uk"]["emails_count"]["total"] > 0
    assert body["meta"]["results"] == len(body["data"])
    one = hunter.post("/discover", json={"organization": {"name": "Acme Robotics Inc."}, "limit": 1})
    assert [row["domain"] for row in one.json()["data"]] == ["acme-robotics.com"]
    by_domain_filter = hunter.post("/discover", json={"organization": {"domain": ["nordlicht-energie.de"]}})
    assert [row["organization"] for row in by_domain_filter.json()["data"]] == ["Nordlicht Energie GmbH"]
    assert sim.ledger.snapshot()["credits_search"] == 0


def test_discover_refuses_what_it_does_not_model(sim: SimulatorServer, hunter: httpx.Client) -> None:
    bodies: tuple[dict[str, Any], ...] = (
        {"industry": {"include": ["Software"]}},
        {"organization": {}},
        {"organization": {"name": [1]}},
        {"organization": {"name": "Acme"}, "limit": 0},
    )
    for body in bodies:
        response = hunter.post("/discover", json=body)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["id"] == "wrong_params"
    assert hunter.post("/discover", content=b"not json").status_code == 400
    assert hunter.get("/discover").status_code == 405


def test_the_directory_is_deterministic_with_twins_and_missing_fields() -> None:
    world = World.generate(seed=11, companies=400)
    first, again = Directory(world), Directory(World.generate(seed=11, companies=400))
    assert first.entries == again.entries
    domains = [c.domain for c in world.companies if c.kind != "unknown"]
    assert [first.company_data(d) for d in domains[:50]] == [again.company_data(d) for d in domains[:50]]
    twins = first.twins()
    assert 0.5 * TWIN_SHARE * 400 <= len(twins) <= 2 * TWIN_SHARE * 400
    for original, twin in twins:
        assert twin.domain not in {c.domain for c in world.companies}
        assert original.name != twin.name and first.named(original.name.split()[0])
    described = [first.company_data(d) for d in domains]
    missing = sum(1 for data in described if data and data["description"] is None) / len(described)
    assert 0.5 * MISSING_SHARE < missing < 2 * MISSING_SHARE
    assert directory_of(world) is directory_of(world)  # built once per world
