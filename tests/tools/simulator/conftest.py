"""One simulator per test session (the world takes a moment to build); every test starts from the same
clean knobs: no latency, generous throttles, a fixed date before Sonar's retirement, empty ledger."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from enrich_tools.simulator import SimulatorServer
from tests.support.simulator import HUNTER_KEY, PPLX_KEY, base_config


@pytest.fixture(scope="session")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture
def sim(server: SimulatorServer) -> SimulatorServer:
    server.reset(base_config())
    return server


@pytest.fixture
def hunter(sim: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.hunter_base_url, headers={"X-API-KEY": HUNTER_KEY}, timeout=10) as client:
        yield client


@pytest.fixture
def pplx(sim: SimulatorServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {PPLX_KEY}"}
    with httpx.Client(base_url=sim.perplexity_base_url, headers=headers, timeout=10) as client:
        yield client
