"""Engine-against-simulator fixtures: one simulator per session, clean knobs for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from enrich_tools.simulator import SimulatorServer
from leadenrich.engine.cache import InMemoryCache, ResultCache
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.engine.providers.hunter import HunterClient
from leadenrich.engine.providers.perplexity import PerplexityClient
from leadenrich.engine.waterfall import Enricher
from tests.support.simulator import HUNTER_KEY, PPLX_KEY, TODAY, base_config

__all__ = ["HUNTER_KEY", "PPLX_KEY", "TODAY"]


@pytest.fixture(scope="session")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
async def sim(server: SimulatorServer) -> AsyncIterator[SimulatorServer]:
    server.reset(base_config())
    yield server
    await close_shared_http_client()


@pytest.fixture
def hunter(sim: SimulatorServer) -> HunterClient:
    return HunterClient(HUNTER_KEY, base_url=sim.hunter_base_url)


@pytest.fixture
def perplexity(sim: SimulatorServer) -> PerplexityClient:
    return PerplexityClient(PPLX_KEY, base_url=sim.perplexity_base_url)


@pytest.fixture
def enricher(hunter: HunterClient, perplexity: PerplexityClient) -> Enricher:
    from datetime import UTC, datetime, time

    return Enricher(
        hunter, perplexity, ResultCache(InMemoryCache()), clock=lambda: datetime.combine(TODAY, time(12), UTC)
    )
