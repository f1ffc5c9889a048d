"""`GET /budget` through the API Lambda on moto, every answer held to docs/openapi.json (the conftest's
`openapi_conformance`), and the ledger `leadenrich.runtime` builds for each backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadenrich import runtime
from leadenrich.aws.dynamo_spend import DynamoSpendLedger
from leadenrich.engine.budget import BudgetReached
from leadenrich.engine.models import Provider
from leadenrich.jobs.budget import Spend, month_scope, utc_month
from leadenrich.jobs.models import Job, JobStatus
from leadenrich.sqlite.spend import SqliteSpendLedger
from tests.support.api_stack import call

NOW = datetime.now(UTC)


def spend(workspace: str, credits: float, cost_usd: float = 0.0) -> None:
    """What a processor's paid calls add this month (the ledger the runtime shares with the processor).
    The handler runs its own event loop, so the tests are synchronous."""
    scope = month_scope(utc_month(NOW))
    asyncio.run(runtime.spend_ledger().add(workspace, [scope], Spend(credits, cost_usd)))


def test_without_a_budget_it_shows_this_month_s_spend(stack: None) -> None:
    status, body, _ = call("GET", "/budget", workspace="acme")
    assert status == 200
    assert body == {
        "workspace_id": "acme",
        "month": utc_month(NOW),
        "monthly_credits": None,
        "source": "none",
        "credits_spent": 0.0,
        "cost_usd_spent": 0.0,
        "credits_left": None,
    }
    spend("acme", 12.5, 0.015)
    _, body, _ = call("GET", "/budget", workspace="acme")
    assert (body["credits_spent"], body["cost_usd_spent"]) == (12.5, 0.015)
    _, other, _ = call("GET", "/budget", workspace="globex")
    assert other["credits_spent"] == 0 and other["workspace_id"] == "globex"  # the caller's only


def test_the_default_and_the_workspace_s_own_budget(stack: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSPACE_MONTHLY_CREDITS", "100")
    runtime.reset()
    spend("acme", 40)
    _, body, _ = call("GET", "/budget", workspace="acme")
    assert (body["monthly_credits"], body["source"], body["credits_left"]) == (100, "default", 60.0)
    asyncio.run(runtime.spend_caps().set_monthly_credits("acme", 30))  # what `enrich budget set` does
    _, body, _ = call("GET", "/budget", workspace="acme")
    assert (body["monthly_credits"], body["source"], body["credits_left"]) == (30, "workspace", 0.0)
    # The gate a processor builds from the same runtime refuses the workspace's next paid call.
    gate = runtime.spend_caps().for_job(Job("acme", "j1", JobStatus.RUNNING, NOW))
    with pytest.raises(BudgetReached):
        asyncio.run(gate.allow(Provider.HUNTER))
    _, globex, _ = call("GET", "/budget", workspace="globex")
    assert (globex["monthly_credits"], globex["source"]) == (100, "default")


def test_without_the_authorizer_s_workspace_it_is_401(stack: None) -> None:
    status, body, _ = call("GET", "/budget", workspace=None)
    assert status == 401 and body["message"] == "Unauthorized"


def test_the_ledger_follows_the_rate_limiter(
    stack: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert isinstance(runtime.spend_ledger(), DynamoSpendLedger)
    monkeypatch.setenv("JOB_STORE", "supabase")  # jobs in Supabase: the limiter, quota and ledger stay here
    runtime.reset()
    assert isinstance(runtime.spend_ledger(), DynamoSpendLedger)
    monkeypatch.setenv("BACKEND", "embedded")
    monkeypatch.setenv("STATE_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.delenv("JOB_STORE")
    runtime.reset()
    assert isinstance(runtime.spend_ledger(), SqliteSpendLedger)
    monkeypatch.setenv("WORKSPACE_MONTHLY_CREDITS", "-5")
    runtime.reset()
    with pytest.raises(ValueError, match="WORKSPACE_MONTHLY_CREDITS"):
        runtime.spend_caps()
