"""`enrich budget set|show` against a stack's table (moto standing in for the deployed one) and against the
local state's SQLite file; what it sets is what `GET /budget` answers and what the processor's gates hold."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrich_tools.cli import main
from leadenrich import runtime
from leadenrich.engine.budget import BudgetReached
from leadenrich.engine.models import Provider
from leadenrich.jobs.budget import JobBudget, Spend, month_scope, utc_month
from leadenrich.jobs.models import Job, JobStatus
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.spend import SqliteSpendLedger
from tests.support.api_stack import TABLE, call
from tests.tools.test_keys_cli_errors import bare_aws  # noqa: F401  # fixture: no AWS configuration at all


def test_set_and_show_on_a_stack_s_table(stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    table = ["--table", TABLE]
    assert main(["budget", "show", "--workspace", "acme", *table]) == 0
    out = capsys.readouterr().out
    assert "workspace acme" in out and "monthly budget: none of its own" in out
    assert "spent this month: 0 credits" in out

    assert main(["budget", "set", "--workspace", "acme", "--monthly-credits", "1500", *table]) == 0
    assert "monthly budget: 1,500 credits a month (the workspace's own)" in capsys.readouterr().out
    runtime.reset()
    status, body, _ = call("GET", "/budget", workspace="acme")
    assert status == 200 and (body["monthly_credits"], body["source"]) == (1500, "workspace")

    assert main(["budget", "show", "--workspace", "acme", "--json", *table]) == 0
    assert json.loads(capsys.readouterr().out) == body  # what GET /budget answers

    assert main(["budget", "set", "--workspace", "acme", "--monthly-credits", "0", *table]) == 0
    assert "none (the workspace's own setting" in capsys.readouterr().out
    assert main(["budget", "set", "--workspace", "acme", "--default", *table]) == 0
    assert "none of its own" in capsys.readouterr().out
    _, body, _ = call("GET", "/budget", workspace="acme")
    assert body["source"] == "none"


def test_the_default_comes_from_the_environment(
    stack: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKSPACE_MONTHLY_CREDITS", "200")
    assert main(["budget", "show", "--workspace", "acme"]) == 0  # TABLE_NAME is set by the fixture
    assert "200 credits a month (the default" in capsys.readouterr().out


async def test_a_budget_set_locally_holds_the_local_processor_s_gates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database.in_dir(tmp_path)
    ledger = SqliteSpendLedger(db)  # the state `enrich local up` keeps
    job = Job("acme", "j1", JobStatus.RUNNING, datetime.now(UTC))
    await ledger.add("acme", [month_scope(utc_month(job.created_at))], Spend(credits=5))
    gate = JobBudget(ledger, job)
    await gate.allow(Provider.HUNTER)  # no budget yet

    state = ["--state", str(tmp_path)]
    argv = ["budget", "set", "--workspace", "acme", "--monthly-credits", "5", *state]
    assert await asyncio.to_thread(main, argv) == 0  # the command runs its own event loop
    out = capsys.readouterr().out
    assert "left: 0 credits" in out and "spent this month: 5 credits" in out
    with pytest.raises(BudgetReached):
        await JobBudget(ledger, job).allow(Provider.HUNTER)
    db.close()


def test_usage_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # no local state here
    assert main(["budget", "show", "--workspace", "acme"]) == 2
    assert "no local state" in capsys.readouterr().err
    Database.in_dir(tmp_path / "state").close()
    state = ["--state", str(tmp_path / "state")]
    assert main(["budget", "show", "--workspace", "not a workspace", *state]) == 2
    assert "--workspace" in capsys.readouterr().err
    for bad in ("-1", "lots"):
        with pytest.raises(SystemExit) as refused:
            main(["budget", "set", "--workspace", "acme", "--monthly-credits", bad, *state])
        assert refused.value.code == 2
        assert "--monthly-credits" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a number or --default, not both, not neither
        main(["budget", "set", "--workspace", "acme", *state])


@pytest.mark.usefixtures("bare_aws")
def test_no_aws_region_is_named_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["budget", "show", "--workspace", "acme", "--table", "leadenrich-dev"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: no AWS region") and "--region" in err


def test_no_such_table_is_named(mocked_aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["budget", "show", "--workspace", "acme", "--table", "no-such-table", "--region", "us-east-1"])
        == 1
    )
    assert "ResourceNotFoundException" in capsys.readouterr().err
