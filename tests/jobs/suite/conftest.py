"""The suite's fixtures: `backend`, one per backend of `tests.support.backends` for every test, and the
simulator its providers run on.

The Supabase backend runs on the session's PostgreSQL + PostgREST (`supabase_server`, tests/conftest.py):
without them its cases skip, except in CI (CI set), where they fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from enrich_tools.simulator import SimulatorServer
from enrich_tools.supabase_harness import SupabaseTestServer
from leadenrich.engine.providers.http import close_shared_http_client
from leadenrich.sqlite.db import FILE_NAME, Database
from tests.support.backends import Backend, DynamoBackend, SqliteBackend, SupabaseBackend
from tests.support.simulator import base_config

BACKENDS = ("sqlite", "dynamodb", "supabase")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(base_config()) as running:
        yield running


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, simulator: SimulatorServer, tmp_path: Path
) -> AsyncIterator[Backend]:
    """A fresh, empty backend per test. The SQLite file lives in the test's tmp_path, never in the
    working directory."""
    simulator.reset(base_config())
    made: Backend
    if request.param == "sqlite":
        made = SqliteBackend(Database(tmp_path / FILE_NAME), simulator)
    else:
        request.getfixturevalue("mocked_aws")
        if request.param == "dynamodb":
            made = DynamoBackend(simulator)
        else:
            server: SupabaseTestServer = request.getfixturevalue("supabase_server")
            server.reset()
            made = SupabaseBackend(server, simulator)
    try:
        yield made
    finally:
        await made.close()
        await close_shared_http_client()
