"""Hunter's Email Enrichment fake (`/v2/people/find`) over real HTTP: the profile of a person Hunter indexed,
404 for anyone else, 451 for an opted-out person, parameter errors, its own throttle, and its charge (only
when found, once per billing period, per plan)."""

from __future__ import annotations

import httpx

from enrich_tools.simulator import SimulatorServer
from enrich_tools.simulator.entities import Company, Person


def person(sim: SimulatorServer, *, indexed: bool, claimed: bool = False) -> tuple[Company, Person]:
    return next(
        (c, p)
        for c in sim.world.companies
        for p in c.people
        if not c.showcase
        and p.email
        and p.indexed_by_hunter is indexed
        and p.claimed is claimed
        and p.hunter_has_position
    )


def test_an_indexed_person_comes_back_with_their_company_and_title(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    company, someone = person(sim, indexed=True)
    answer = hunter.get("/people/find", params={"email": someone.email.upper()})  # type: ignore[union-attr]
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["email"] == someone.email and answer.json()["meta"] == {"email": someone.email}
    assert data["name"] == {
        "fullName": someone.full_name,
        "givenName": someone.first_name,
        "familyName": someone.last_name or None,
    }
    assert data["employment"]["domain"] == company.domain and data["employment"]["name"] == company.name
    assert data["employment"]["title"] == someone.position
    assert data["geo"]["countryCode"] == company.country
    assert sim.ledger.credits("hunter.people_find") == 1  # a Data Platform search credit
    hunter.get("/people/find", params={"email": someone.email})
    assert sim.ledger.credits("hunter.people_find") == 1  # a repeat in the period is free


def test_nobody_known_is_a_free_404_and_an_opted_out_person_a_451(
    sim: SimulatorServer, hunter: httpx.Client
) -> None:
    _, unindexed = person(sim, indexed=False)
    for email in (unindexed.email, "nobody@nowhere-at-all.example"):
        answer = hunter.get("/people/find", params={"email": email})
        assert answer.status_code == 404 and answer.json()["errors"][0]["id"] == "not_found"
    _, opted_out = person(sim, indexed=True, claimed=True)
    answer = hunter.get("/people/find", params={"email": opted_out.email})
    assert answer.status_code == 451 and answer.json()["errors"][0]["id"] == "claimed_email"
    assert sim.ledger.credits("hunter.people_find") == 0


def test_parameters_keys_throttle_and_plan(sim: SimulatorServer, hunter: httpx.Client) -> None:
    assert hunter.get("/people/find").json()["errors"][0]["id"] == "wrong_params"
    assert hunter.get("/people/find", params={"email": "not-an-address"}).json()["errors"][0]["id"] == (
        "invalid_email"
    )
    unkeyed = httpx.get(f"{sim.hunter_base_url}/people/find", params={"email": "a@b.com"}, timeout=10)
    assert unkeyed.status_code == 401
    test_key = httpx.get(
        f"{sim.hunter_base_url}/people/find",
        params={"email": "a@b.com"},
        headers={"X-API-KEY": "test-api-key"},
        timeout=10,
    )
    assert test_key.status_code == 401  # Hunter's test key covers the three search endpoints only

    sim.configure(billing_plan="unified", rate_limit_mode="429", email_finder_rps=1)
    _, someone = person(sim, indexed=True)
    fresh = {"X-API-KEY": "a-key-of-its-own"}  # a window of its own: the calls above count in the other's
    first = hunter.get("/people/find", params={"email": someone.email}, headers=fresh)
    second = hunter.get("/people/find", params={"email": someone.email}, headers=fresh)
    assert first.status_code == 200 and second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1
    assert sim.ledger.credits("hunter.people_find") == 0.2  # All-in-one: 0.2 credit a profile
