"""Supabase fixtures, registered in tests/conftest.py: one PostgreSQL + PostgREST + gateway per session,
emptied before every test.

When PostgreSQL or PostgREST is not installed the tests skip with what to install, except in CI (CI set),
where they fail: `make test` installs both first (infra/scripts/install-test-servers.sh).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol, cast

import httpx
import pytest
from postgrest import APIResponse
from supabase import Client, ClientOptions, create_client

from enrich_tools.supabase_harness import MissingBinaryError, SupabaseTestServer

WORKSPACE_A = "ws-a"
WORKSPACE_B = "ws-b"


class Query(Protocol):
    def execute(self) -> APIResponse: ...


def rows(query: Query) -> list[dict[str, Any]]:
    """Run a table request and return its rows (supabase types `.data` as a list of any JSON value)."""
    data = query.execute().data
    assert all(isinstance(row, dict) for row in data), data
    return cast(list[dict[str, Any]], data)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def supabase_server() -> Iterator[SupabaseTestServer]:
    server = SupabaseTestServer()
    try:
        server.start()
    except MissingBinaryError as exc:
        if in_ci():
            pytest.fail(f"CI must run the Supabase tests: {exc}", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def supabase_db(supabase_server: SupabaseTestServer) -> SupabaseTestServer:
    """The session's server with every table emptied."""
    supabase_server.reset()
    return supabase_server


@pytest.fixture
def clients() -> Iterator[Callable[..., Client]]:
    """Makes supabase clients for a test and closes them afterwards.

    Each gets its own httpx client: without one, supabase 2.34.1 builds its PostgREST client with the
    deprecated `timeout` and `verify` arguments and warns (DeprecationWarning) on every `create_client`.
    """
    made: list[httpx.Client] = []

    def make(url: str, key: str, *, token: str | None = None) -> Client:
        session = httpx.Client(timeout=10.0)
        made.append(session)
        options = ClientOptions(httpx_client=session)
        if token is not None:
            options.headers["Authorization"] = f"Bearer {token}"
        return create_client(url, key, options)

    yield make
    for session in made:
        session.close()


@pytest.fixture
def service_client(supabase_db: SupabaseTestServer, clients: Callable[..., Client]) -> Client:
    """What the Lambdas use: the service role key (bypasses row-level security)."""
    return clients(supabase_db.url, supabase_db.service_role_key)


@pytest.fixture
def anon_client(supabase_db: SupabaseTestServer, clients: Callable[..., Client]) -> Client:
    return clients(supabase_db.url, supabase_db.anon_key)


@pytest.fixture
def user_client(supabase_db: SupabaseTestServer, clients: Callable[..., Client]) -> Callable[[str], Client]:
    """A signed-in user of a workspace: the anon key as apikey, the user's JWT as Authorization."""

    def make(workspace_id: str) -> Client:
        return clients(supabase_db.url, supabase_db.anon_key, token=supabase_db.user_token(workspace_id))

    return make


@pytest.fixture
def http(supabase_db: SupabaseTestServer) -> Iterator[httpx.Client]:
    """Plain HTTP to the gateway, for what the client library hides (status codes, headers)."""
    with httpx.Client(base_url=supabase_db.rest_url, timeout=10.0) as client:
        yield client
