"""Company data over real HTTP against the simulator: Hunter's `/companies/find`, `/discover` and Domain
Search by company name through the client, and the waterfall's company steps end to end, its own
accounting held to what the simulator billed."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from enrich_tools.simulator import SimulatorServer
from enrich_tools.simulator.company_directory import directory_of
from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.company.ports import CompanyData, CompanyDirectory
from leadenrich.engine.company.resolution import ResolutionMethod, ResolutionStatus
from leadenrich.engine.models import Lead, LeadStatus
from leadenrich.engine.providers.hunter_company import HunterCompanyClient
from leadenrich.engine.providers.outcomes import Outcome, ProviderProblem
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher
from tests.engine.simulated.conftest import HUNTER_KEY, TODAY

ACME = "acme-robotics.com"


@pytest.fixture
def companies(sim: SimulatorServer) -> HunterCompanyClient:
    return HunterCompanyClient(HUNTER_KEY, base_url=sim.hunter_base_url)


@pytest.fixture
def enricher(companies: HunterCompanyClient, perplexity: PerplexityClient) -> Enricher:
    return Enricher(
        companies,
        perplexity,
        ResultCache(InMemoryCache()),
        clock=lambda: datetime.combine(TODAY, time(12), UTC),
        companies=companies,
        directory=companies,
    )


def the_ports(client: HunterCompanyClient) -> tuple[CompanyData, CompanyDirectory]:
    """mypy checks the client against both ports here."""
    return client, client


def a_company_hunter_does_not_know(sim: SimulatorServer) -> str:
    return next(c.domain for c in sim.world.companies if c.kind == "unknown")


async def test_companies_find_answers_the_profile_and_bills_one_credit_once(
    sim: SimulatorServer, companies: HunterCompanyClient
) -> None:
    answer = await companies.find(ACME, deadline=Deadline.after(10))
    profile = answer.profile
    assert profile is not None and answer.credits == 1.0
    assert (profile.domain, profile.name, profile.country_code) == (ACME, "Acme Robotics Inc.", "US")
    assert profile.industry == "Machinery" and profile.employees == "1-10"
    assert profile.description and profile.city and profile.linkedin == "company/acme-robotics"
    assert profile.completeness == 100  # showcase companies have every field
    assert sim.ledger.snapshot()["credits"]["hunter.companies_find"] == 1
    await companies.find(ACME, deadline=Deadline.after(10))
    assert sim.ledger.snapshot()["credits_search"] == 1  # a repeat within the billing period is free


async def test_unified_plans_bill_a_fifth_of_a_credit(sim: SimulatorServer) -> None:
    sim.configure(billing_plan="unified")
    client = HunterCompanyClient(HUNTER_KEY, base_url=sim.hunter_base_url, credit=0.2)
    answer = await client.find("nordlicht-energie.de", deadline=Deadline.after(10))
    assert answer.profile is not None and answer.credits == 0.2
    assert sim.ledger.snapshot()["credits_search"] == 0.2


async def test_a_company_hunter_does_not_know_is_a_free_404(
    sim: SimulatorServer, companies: HunterCompanyClient
) -> None:
    answer = await companies.find(a_company_hunter_does_not_know(sim), deadline=Deadline.after(10))
    assert answer.profile is None and answer.credits == 0
    snapshot = sim.ledger.snapshot()
    assert snapshot["statuses"]["hunter.companies_find"] == {"404": 1}
    assert snapshot["credits_search"] == 0


async def test_throttling_and_refused_keys_are_classified(
    sim: SimulatorServer, companies: HunterCompanyClient
) -> None:
    sim.configure(companies_find_rps=1, companies_find_rpm=100, discover_rps=1, discover_rpm=100)
    await companies.find(ACME, deadline=Deadline.after(10))
    with pytest.raises(ProviderProblem) as throttled:
        await companies.find("nordlicht-energie.de", deadline=Deadline.after(10))
    assert (throttled.value.outcome, throttled.value.http_status) == (Outcome.THROTTLED, 403)
    await companies.companies_named("Acme", deadline=Deadline.after(10))
    with pytest.raises(ProviderProblem) as again:
        await companies.companies_named("Globex", deadline=Deadline.after(10))
    assert again.value.outcome is Outcome.THROTTLED
    sim.configure(accept_any_key=False)
    refused = HunterCompanyClient("wrong-key", base_url=sim.hunter_base_url)
    with pytest.raises(ProviderProblem) as unauthorized:
        await refused.find(ACME, deadline=Deadline.after(10))
    assert (unauthorized.value.outcome, unauthorized.value.http_status) == (Outcome.PERMANENT, 401)


async def test_discover_lists_the_companies_under_a_name_for_free(
    sim: SimulatorServer, companies: HunterCompanyClient
) -> None:
    listed = await companies.companies_named("Brightlane", deadline=Deadline.after(10))
    domains = {c.domain for c in listed}
    assert {"brightlane.co.uk", "brightlane.io"} <= domains  # the showcase company and its brand twin
    assert await companies.companies_named("Zyxwv Quantum Holdings", deadline=Deadline.after(10)) == []
    assert sim.ledger.calls("hunter.discover") == 2 and sim.ledger.snapshot()["credits_search"] == 0


async def test_domain_search_by_company_name(sim: SimulatorServer, companies: HunterCompanyClient) -> None:
    found = await companies.domain_search_by_company(
        "Acme Robotics", deadline=Deadline.after(10), type="personal", seniority="executive"
    )
    assert (found.domain, found.organization) == (ACME, "Acme Robotics Inc.")
    assert found.search is not None and found.search.domain == ACME
    nothing = await companies.domain_search_by_company(
        "Zyxwv Quantum Holdings", deadline=Deadline.after(10), type="personal", seniority="executive"
    )
    assert (nothing.domain, nothing.search) == (None, None)


# --- the waterfall's company steps, end to end ------------------------------------------------------------


async def test_a_name_only_lead_is_resolved_then_enriched_and_its_cost_is_what_was_billed(
    sim: SimulatorServer, enricher: Enricher
) -> None:
    result = await enricher.enrich(Lead(company_name="Acme Robotics"), company_data=True)
    assert result.status is LeadStatus.FOUND and result.domain == ACME
    resolution = result.resolution
    assert resolution is not None
    assert (resolution.status, resolution.method, resolution.confidence) == (
        ResolutionStatus.RESOLVED,
        ResolutionMethod.DISCOVER,
        100,
    )
    assert result.company is not None and result.company.completeness == 100
    snapshot = sim.ledger.snapshot()
    billed = snapshot["credits_search"] + snapshot["credits_verification"]
    assert result.usage.hunter.credits == pytest.approx(billed)
    assert result.usage.hunter.calls == snapshot["hunter_calls"]


async def test_a_brand_two_companies_share_is_reported_not_guessed(
    sim: SimulatorServer, enricher: Enricher
) -> None:
    result = await enricher.enrich(
        Lead(company_name="Brightlane", first_name="Aoife", last_name="O'Sullivan")
    )
    assert result.status is LeadStatus.INVALID and result.emails == []
    assert result.reason is not None and result.reason.startswith("company_ambiguous: 'Brightlane' matches")
    assert "brightlane.io" in result.reason
    assert sim.ledger.snapshot()["calls"] == {"hunter.discover": 1}  # one free call, nothing billed


async def test_every_generated_brand_twin_is_ambiguous(sim: SimulatorServer, enricher: Enricher) -> None:
    twins = directory_of(sim.world).twins()
    assert twins, "the world has brand twins"
    for original, _twin in twins[:3]:
        result = await enricher.enrich(Lead(company_name=original.name))
        assert result.status is LeadStatus.INVALID, original.name
        assert result.resolution is not None and result.resolution.status is ResolutionStatus.AMBIGUOUS
    assert sim.ledger.snapshot()["credits_search"] == 0


async def test_a_name_hunter_does_not_know_ends_not_found_for_nothing(
    sim: SimulatorServer, enricher: Enricher
) -> None:
    result = await enricher.enrich(Lead(company_name="Zyxwv Quantum Holdings"))
    assert result.status is LeadStatus.NOT_FOUND
    assert result.reason is not None and result.reason.startswith("company_unknown:")
    snapshot = sim.ledger.snapshot()
    assert snapshot["calls"] == {"hunter.discover": 1, "hunter.domain_search": 1}
    assert snapshot["credits_search"] == 0
