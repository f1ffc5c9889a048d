"""`POST /_sim/departures`: a person who verified valid leaves the company, and from then on the Email
Verifier says invalid and the ground truth no longer lists the mailbox; a role address or a bad body is a
400. The session's world is put back afterwards (a departure lasts as long as the world)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from enrich_tools.simulator import SimulatorServer


@pytest.fixture
def world_kept(sim: SimulatorServer) -> Iterator[SimulatorServer]:
    before = sim.state.world
    yield sim
    sim.state.world = before


def test_a_departed_person_s_address_now_verifies_invalid(
    world_kept: SimulatorServer, hunter: httpx.Client
) -> None:
    sim = world_kept
    company, someone = next(
        (c, p)
        for c in sim.world.companies
        for p in c.current_people
        if p.email and not p.claimed and c.has_mx and not c.accept_all
    )
    assert someone.email is not None
    assert hunter.get("/email-verifier", params={"email": someone.email}).json()["data"]["status"] == "valid"

    answer = httpx.post(f"{sim.base_url}/_sim/departures", json={"emails": [someone.email.upper()]})
    assert answer.status_code == 200 and answer.json() == {"departed": [someone.email]}
    assert (
        hunter.get("/email-verifier", params={"email": someone.email}).json()["data"]["status"] == "invalid"
    )
    truth = httpx.get(f"{sim.base_url}/_sim/truth", params={"domain": company.domain}).json()
    assert someone.email not in truth["mailboxes"]


@pytest.mark.parametrize("body", [{"emails": []}, {"emails": ["nobody@nowhere.example"]}, {"email": "x"}])
def test_what_is_no_person_s_address_is_a_400(world_kept: SimulatorServer, body: object) -> None:
    answer = httpx.post(f"{world_kept.base_url}/_sim/departures", json=body)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "emails"
    role = next(c.generic_mailboxes[0] for c in world_kept.world.companies if c.generic_mailboxes)
    assert httpx.post(f"{world_kept.base_url}/_sim/departures", json={"emails": [role]}).status_code == 400
