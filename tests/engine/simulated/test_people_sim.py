"""Hunter's Email Enrichment client (`HunterPeopleClient`) over real HTTP against the simulator, and the
person look-up behind `POST /enrich` on it: a profile, nobody (404), an opted-out person (451: onto the
service-wide suppression list, never answered), throttling and a refused key classified as the other Hunter
endpoints' answers are."""

from __future__ import annotations

import pytest

from enrich_tools.simulator import SimulatorServer
from leadenrich.buffer.person import PersonLookup, ProviderUnavailable
from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache
from leadenrich.engine.providers.hunter_people import HunterPeopleClient
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import SERVICE_WIDE
from leadenrich.privacy.suppression import WorkspaceScreen
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.support.simulator import HUNTER_KEY


def opted_out(sim: SimulatorServer) -> str:
    return next(
        p.email
        for c in sim.world.companies
        for p in c.people
        if p.email and p.claimed and p.indexed_by_hunter
    )


async def test_a_profile_nobody_and_an_opted_out_person(sim: SimulatorServer) -> None:
    client = HunterPeopleClient(HUNTER_KEY, base_url=sim.hunter_base_url)
    profile = await client.person("daniel.kim@acme-robotics.com", deadline=Deadline.after(10))
    assert profile is not None
    assert (profile.full_name, profile.title, profile.company_name) == (
        "Daniel Kim",
        "Co-founder & CTO",
        "Acme Robotics Inc.",
    )
    assert (profile.company_domain, profile.email) == ("acme-robotics.com", "daniel.kim@acme-robotics.com")
    assert await client.person("nobody@acme-robotics.com", deadline=Deadline.after(10)) is None
    with pytest.raises(ProviderProblem) as raised:
        await client.person(opted_out(sim), deadline=Deadline.after(10))
    assert raised.value.outcome is Outcome.OPTED_OUT


async def test_throttling_and_a_refused_key_are_classified(sim: SimulatorServer) -> None:
    sim.configure(email_finder_rps=1, rate_limit_mode="403", accept_any_key=False)
    client = HunterPeopleClient(HUNTER_KEY, base_url=sim.hunter_base_url)
    await client.person("daniel.kim@acme-robotics.com", deadline=Deadline.after(10))
    with pytest.raises(ProviderProblem) as throttled:
        await client.person("megan.carter@acme-robotics.com", deadline=Deadline.after(10))
    assert throttled.value.outcome is Outcome.THROTTLED and throttled.value.http_status == 403
    with pytest.raises(ProviderProblem) as refused:
        await HunterPeopleClient("wrong", base_url=sim.hunter_base_url).person(
            "a@b.com", deadline=Deadline.after(5)
        )
    assert refused.value.outcome is Outcome.PERMANENT and refused.value.http_status == 401


async def test_an_opted_out_person_goes_on_the_service_wide_list(
    sim: SimulatorServer, database: Database
) -> None:
    suppressions = SqliteSuppressionList(database)
    client = HunterPeopleClient(HUNTER_KEY, base_url=sim.hunter_base_url)
    lookup = PersonLookup(
        InMemoryCache(), lambda: client, screen=lambda ws: WorkspaceScreen(suppressions, ws)
    )
    email = opted_out(sim)
    answer = await lookup.find("acme", email)
    assert answer.profile is None and not answer.cached
    assert await suppressions.suppressed("another-workspace", [email_identity(email).key])
    assert (await suppressions.list(SERVICE_WIDE)).items[0].reason.value == "opted_out"
    assert sim.ledger.calls("hunter.people_find") == 1
    assert (await lookup.find("another-workspace", email)).profile is None
    assert sim.ledger.calls("hunter.people_find") == 1  # never asked again
    sim.configure(share_5xx=1.0, share_html_5xx=1.0)
    with pytest.raises(ProviderUnavailable) as failing:
        await lookup.find("acme", "daniel.kim@acme-robotics.com")
    assert failing.value.retry_after >= 30
