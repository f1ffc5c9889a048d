"""One simulator per test session (the world takes a moment to build); every test starts from the same
clean knobs: no latency, generous throttles, a fixed date before Sonar's retirement, empty ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from enrich_tools.simulator import SimConfig, SimulatorServer

HUNTER_KEY = "sim-hunter-key"
PPLX_KEY = "sim-pplx-key"
TODAY = date(2026, 6, 15)


def base_config() -> SimConfig:
    return SimConfig(
        fixed_date=TODAY,
        time_scale=0.0,
        perplexity_rpm=100_000,
        perplexity_qps=10_000.0,
        domain_search_rps=10_000,
        domain_search_rpm=100_000,
        email_finder_rps=10_000,
        email_finder_rpm=100_000,
        email_verifier_rps=10_000,
        email_verifier_rpm=100_000,
        email_count_rps=10_000,
        email_count_rpm=100_000,
    )


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
