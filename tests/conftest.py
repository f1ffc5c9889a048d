"""Fixtures shared across the test packages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from moto import mock_aws

from leadenrich.sqlite.db import Database
from tests.support.moto_s3 import moto_server  # noqa: F401  # fixture: moto's S3 over loopback HTTP
from tests.support.supabase import (  # noqa: F401  # fixtures: one PostgreSQL + PostgREST per session, for every package
    anon_client,
    clients,
    http,
    service_client,
    supabase_db,
    supabase_server,
    user_client,
)

# Hypothesis fails an example slower than 200 ms by default: a timing assertion, which belongs in a
# benchmark, and one that failed a names property once on a loaded machine (680 ms, load 4).
settings.register_profile("leadenrich", deadline=None)
settings.load_profile("leadenrich")

FAKE_AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AWS emulated in-process (moto), with dummy credentials so nothing can reach a real account."""
    for var, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture(autouse=True)
def no_supabase_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's SUPABASE_URL must never send test data to their project: the tests that use Supabase
    set the test harness's variables themselves (`SupabaseTestServer.env()`)."""
    for name in ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_ANON_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_request_rate_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployed per-workspace request rate (10 a second, bursts of 20) is off in tests: handler tests
    send dozens of requests a second in one workspace on the wall clock. The tests of the limit set it
    (`tests/auth/test_request_rate.py`, `tests/functions/test_api_responses.py`)."""
    monkeypatch.setenv("WORKSPACE_REQUESTS_PER_SECOND", "0")
    monkeypatch.delenv("WORKSPACE_REQUEST_BURST", raising=False)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A fresh embedded SQLite file: what the adapters' tests run their SQLite side on."""
    db = Database(tmp_path / "leadenrich.sqlite3")
    yield db
    db.close()
