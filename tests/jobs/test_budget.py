"""Spend caps on the jobs side: `JobBudget`, the gate one item of one job runs under, over each real ledger
(SQLite, and DynamoDB on moto). Two ledger objects over one store stand for two processors.

The adapters' own guarantees (concurrent adds, exact sums, persistence) are in
tests/adapters/{sqlite,dynamo}/test_spend_ledger.py; the engine's side of the gate in
tests/engine/test_spend_gate.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from leadenrich.aws.dynamo_schema import create_table
from leadenrich.aws.dynamo_spend import DynamoSpendLedger
from leadenrich.engine.budget import BudgetReached, SpendGate
from leadenrich.engine.models import Lead, LeadStatus, Provider
from leadenrich.jobs.budget import (
    MAX_COST_USD,
    MAX_CREDITS,
    WORKSPACE_MONTHLY_CREDITS,
    BudgetSettings,
    JobBudget,
    SpendCaps,
    SpendLedger,
    job_scope,
    month_scope,
)
from leadenrich.jobs.models import Job, JobOptions, JobStatus
from leadenrich.settings_errors import SettingsError
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.spend import SqliteSpendLedger
from tests.support.scripted_providers import Script, make_enricher

TABLE = "leadenrich-test"
NOV = datetime(2026, 11, 22, 12, tzinfo=UTC)
DEC = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)

# Two ledger objects over one store: what two processors (two Lambda instances, two threads) hold.
Ledgers = Callable[[], SpendLedger]


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledgers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledgers]:
    if request.param == "sqlite":
        opened: list[Database] = []

        def sqlite() -> SpendLedger:
            db = Database(tmp_path / "state.sqlite3")
            opened.append(db)
            return SqliteSpendLedger(db)

        yield sqlite
        for db in opened:
            db.close()
        return
    request.getfixturevalue("mocked_aws")
    client: Any = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, TABLE)
    yield lambda: DynamoSpendLedger(TABLE, client, serialize_calls=True)


def job(max_credits: float | None = None, max_cost_usd: float | None = None, job_id: str = "j1") -> Job:
    options = JobOptions(max_credits=max_credits, max_cost_usd=max_cost_usd)
    return Job("acme", job_id, JobStatus.RUNNING, NOV, options=options)


def gate(ledger: SpendLedger, of: Job, *, monthly: int = 0, now: datetime = NOV) -> JobBudget:
    return JobBudget(ledger, of, default_monthly_credits=monthly, clock=lambda: now)


def conforms(budget: JobBudget) -> SpendGate:
    """mypy checks the gate against the engine's port here."""
    return budget


async def test_a_job_credit_cap_is_checked_before_each_call(ledgers: Ledgers) -> None:
    ledger = ledgers()
    capped = gate(ledger, job(max_credits=2))
    await capped.allow(Provider.HUNTER)
    await capped.record(Provider.HUNTER, credits=1, cost_usd=0)
    await capped.allow(Provider.HUNTER)  # 1 of 2 spent
    await capped.record(Provider.HUNTER, credits=1, cost_usd=0)
    with pytest.raises(BudgetReached) as reached:
        await capped.allow(Provider.PERPLEXITY)  # any reached cap refuses every provider
    assert reached.value.scope == MAX_CREDITS
    spent = await ledger.spent("acme", [job_scope("j1"), month_scope("2026-11")])
    assert spent[job_scope("j1")].credits == 2 and spent[month_scope("2026-11")].credits == 2


async def test_a_job_dollar_cap(ledgers: Ledgers) -> None:
    capped = gate(ledgers(), job(max_cost_usd=0.01))
    for _ in range(2):
        await capped.allow(Provider.PERPLEXITY)
        await capped.record(Provider.PERPLEXITY, credits=0, cost_usd=0.005)
    with pytest.raises(BudgetReached) as reached:
        await capped.allow(Provider.PERPLEXITY)  # exactly $0.01: sums are exact in both ledgers
    assert reached.value.scope == MAX_COST_USD


async def test_the_cap_holds_across_two_processors(ledgers: Ledgers) -> None:
    first, second = ledgers(), ledgers()
    the_job = job(max_credits=3)
    on_first, on_second = gate(first, the_job), gate(second, the_job)  # two items, two processors
    await on_first.allow(Provider.HUNTER)
    await on_second.allow(Provider.HUNTER)  # both allowed while the job is under its cap: in flight
    await on_first.record(Provider.HUNTER, credits=2, cost_usd=0)
    await on_second.record(Provider.HUNTER, credits=2, cost_usd=0)  # 4 > 3: the bound's overspend
    for side in (on_first, on_second, gate(first, the_job)):
        with pytest.raises(BudgetReached):
            await side.allow(Provider.HUNTER)
    assert (await SpendCaps(second).job_spent("acme", "j1")).credits == 4


async def test_another_job_is_not_held_by_this_one_s_cap(ledgers: Ledgers) -> None:
    ledger = ledgers()
    capped = gate(ledger, job(max_credits=1))
    await capped.record(Provider.HUNTER, credits=1, cost_usd=0)
    with pytest.raises(BudgetReached):
        await capped.allow(Provider.HUNTER)
    await gate(ledger, job(job_id="j2")).allow(Provider.HUNTER)
    await gate(ledger, job(max_credits=1, job_id="j3")).allow(Provider.HUNTER)


async def test_raising_the_cap_lets_the_job_continue(ledgers: Ledgers) -> None:
    ledger = ledgers()
    await gate(ledger, job(max_credits=1)).record(Provider.HUNTER, credits=1, cost_usd=0)
    with pytest.raises(BudgetReached):
        await gate(ledger, job(max_credits=1)).allow(Provider.HUNTER)
    await gate(ledger, job(max_credits=5)).allow(Provider.HUNTER)  # the resumed job's options


async def test_the_workspace_monthly_budget_counts_every_job_and_restarts_each_month(
    ledgers: Ledgers,
) -> None:
    ledger = ledgers()
    await gate(ledger, job(job_id="j1"), monthly=3).record(Provider.HUNTER, credits=2, cost_usd=0)
    other = gate(ledger, job(job_id="j2"), monthly=3)
    await other.allow(Provider.HUNTER)
    await other.record(Provider.HUNTER, credits=1, cost_usd=0.5)  # dollars do not count against credits
    with pytest.raises(BudgetReached) as reached:
        await gate(ledger, job(job_id="j3"), monthly=3).allow(Provider.HUNTER)
    assert reached.value.scope == WORKSPACE_MONTHLY_CREDITS
    await gate(ledger, job(job_id="j3"), monthly=3, now=DEC).allow(Provider.HUNTER)  # a new UTC month
    # Another workspace has a budget of its own.
    await JobBudget(ledger, Job("globex", "j1", JobStatus.RUNNING, NOV), default_monthly_credits=3).allow(
        Provider.HUNTER
    )


async def test_a_workspace_setting_overrides_the_default(ledgers: Ledgers) -> None:
    ledger = ledgers()
    caps = SpendCaps(ledger, default_monthly_credits=100, clock=lambda: NOV)
    await caps.for_job(job()).record(Provider.HUNTER, credits=5, cost_usd=0)
    await caps.for_job(job()).allow(Provider.HUNTER)  # 5 of the default 100
    status = await caps.set_monthly_credits("acme", 5)
    assert (status.monthly_credits, status.stored_monthly_credits, status.credits_left) == (5, 5, 0)
    with pytest.raises(BudgetReached):
        await caps.for_job(job()).allow(Provider.HUNTER)
    status = await caps.set_monthly_credits("acme", 0)  # its own "no budget", whatever the default
    assert status.monthly_credits is None and status.credits_left is None
    await caps.for_job(job()).allow(Provider.HUNTER)
    status = await caps.set_monthly_credits("acme", None)  # back to the default
    assert status.stored_monthly_credits is None and status.monthly_credits == 100
    assert status.month == "2026-11" and status.spent.credits == 5
    with pytest.raises(ValueError, match="monthly_credits"):
        await caps.set_monthly_credits("acme", -1)


async def test_free_answers_write_nothing(ledgers: Ledgers) -> None:
    ledger = ledgers()
    await gate(ledger, job()).record(Provider.HUNTER, credits=0, cost_usd=0)
    spent = await ledger.spent("acme", [job_scope("j1")])
    assert spent[job_scope("j1")].credits == 0 and spent[job_scope("j1")].cost_usd == 0


async def test_the_engine_stops_a_lead_at_the_job_cap_and_the_ledger_holds_its_usage(
    ledgers: Ledgers,
) -> None:
    """The waterfall under a real gate: Perplexity names Jane Doe, the finder knows nothing, and the
    first permutation verified takes the job to its cap of one credit."""
    script = Script()
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "Founder", "source_urls": ["https://acme.com/about"]}
    ]
    script.mailboxes = {"jane@acme.com"}
    enricher = make_enricher(script)
    caps = SpendCaps(ledgers(), clock=lambda: NOV)
    stopped = await enricher.enrich(Lead(domain="acme.com"), budget=caps.for_job(job(max_credits=1)))
    assert stopped.status is LeadStatus.DEFERRED and stopped.budget_reached
    assert stopped.reason == f"budget_reached: {MAX_CREDITS}" and not stopped.attempt_consumed
    spent = await caps.job_spent("acme", "j1")
    assert spent.credits == stopped.usage.hunter.credits == 1
    assert spent.cost_usd == pytest.approx(stopped.usage.perplexity.cost_usd)

    resumed = await enricher.enrich(Lead(domain="acme.com"), budget=caps.for_job(job(max_credits=2)))
    assert resumed.status is LeadStatus.FOUND
    assert (await caps.job_spent("acme", "j1")).credits == 2  # one more verification, nothing paid twice


def test_the_default_budget_comes_from_the_environment() -> None:
    assert BudgetSettings.from_env({}).workspace_monthly_credits == 0
    assert BudgetSettings.from_env({"WORKSPACE_MONTHLY_CREDITS": "5000"}).workspace_monthly_credits == 5000
    for bad in ("-1", "lots", "1.5"):
        with pytest.raises(SettingsError, match="WORKSPACE_MONTHLY_CREDITS"):
            BudgetSettings.from_env({"WORKSPACE_MONTHLY_CREDITS": bad})
