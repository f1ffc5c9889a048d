"""Lead statuses and grades hold in worlds the engine has never seen: random world seeds, shares of
wrongly named people, mail servers that will not answer, verifications still running (202) and failed
Perplexity runs, all over real HTTP against the simulator, judged by each world's ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrich_tools.batch import enrich_many
from enrich_tools.simulator import SimulatorServer
from enrich_tools.simulator.config import SimConfig
from leadenrich.deadline import Deadline
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.models import Deliverability, EmailStatus, EnrichmentResult, Lead, LeadStatus
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher
from tests.support.simulator import HUNTER_KEY, PPLX_KEY, base_config

UNVERIFIABLE = {Deliverability.HIGH_PROBABILITY, Deliverability.CATCH_ALL}


@pytest.fixture(scope="module")
def worlds() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


def world_config(seed: int, wrong: float, unknown: float, pending: float, failed_runs: float) -> SimConfig:
    config = base_config()
    config.apply(
        {
            "seed": seed,
            "companies": 80,
            "perplexity_wrong_share": wrong,
            "share_unknown": unknown,
            "share_202": pending,
            "perplexity_share_failed": failed_runs,
        }
    )
    return config


async def enrich_sample(sim: SimulatorServer, lead_seed: int, tries: int) -> list[EnrichmentResult]:
    enricher = Enricher(
        HunterClient(HUNTER_KEY, base_url=sim.hunter_base_url),
        PerplexityClient(PPLX_KEY, base_url=sim.perplexity_base_url),
        ResultCache(InMemoryCache()),
    )
    leads = [
        Lead(domain=s.domain, company_name=s.company_name, first_name=s.first_name, last_name=s.last_name)
        for s in sim.world.sample_leads(30, lead_seed)
    ]

    async def one(lead: Lead) -> EnrichmentResult:
        return await enricher.enrich(lead, Deadline.after(30))

    try:
        return await enrich_many(one, leads, max_wait=0.0, tries=tries)
    finally:
        await close_shared_http_client()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(min_value=100, max_value=10_000),
    lead_seed=st.integers(min_value=0, max_value=1_000),
    wrong=st.floats(min_value=0.0, max_value=0.5),
    unknown=st.sampled_from([0.0, 0.3, 1.0]),
    pending=st.sampled_from([0.0, 0.3]),
    failed_runs=st.sampled_from([0.0, 0.2]),
    tries=st.integers(min_value=1, max_value=3),
)
def test_found_means_verified_and_every_grade_tells_the_truth_it_claims(
    worlds: SimulatorServer,
    seed: int,
    lead_seed: int,
    wrong: float,
    unknown: float,
    pending: float,
    failed_runs: float,
    tries: int,
) -> None:
    worlds.reset(world_config(seed, wrong, unknown, pending, failed_runs))
    world = worlds.world
    results = asyncio.run(enrich_sample(worlds, lead_seed, tries))

    for r in results:
        grades = {e.deliverability for e in r.emails}
        active = [e for e in r.emails if e.status is EmailStatus.ACTIVE]
        # an address is active exactly when it is graded verified, and a verified address is a real mailbox
        for e in r.emails:
            assert (e.status is EmailStatus.ACTIVE) == (e.deliverability is Deliverability.VERIFIED), e
            if e.deliverability is Deliverability.VERIFIED:
                assert world.is_real_mailbox(e.email), e
        if r.status is LeadStatus.FOUND:
            assert active, r  # no found lead without an active address
        elif r.status is LeadStatus.RISKY:
            assert r.emails and not active, r
            assert grades <= UNVERIFIABLE | {Deliverability.UNKNOWN}, r
        elif r.status is not LeadStatus.DEFERRED:
            assert not r.emails, r
        if grades & UNVERIFIABLE:  # graded as a catch-all only on a catch-all domain
            company = world.company(r.domain)
            assert company is not None and company.accept_all, r
        if Deliverability.UNKNOWN in grades:
            assert unknown > 0.0 and r.status in (LeadStatus.RISKY, LeadStatus.DEFERRED), r
