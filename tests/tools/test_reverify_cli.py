"""`enrich reverify run` on the local state's SQLite file and on a stack's table (moto standing in for the
deployed one): a dry run says what would be selected and writes nothing; a run creates the day's
low-priority verification job of the stale addresses (the fresh one left out), recorded as the operator's;
a second run the same day creates nothing more; a workspace without a budget is told how to give one."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from enrich_tools.cli import main
from leadenrich.aws.dynamo_jobs import DynamoJobStore
from leadenrich.aws.dynamo_settings import DynamoWorkspaceSettings
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import JobStore
from leadenrich.privacy.ports import AuditQuery, WorkspaceSettings, WorkspaceSettingsStore
from leadenrich.reverify.service import TAG
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.settings import SqliteWorkspaceSettings
from tests.support.api_stack import TABLE
from tests.support.reverify_world import address, result

WS = "acme"
OLD, FRESH = "old.ceo@acme.com", "new.cto@acme.com"
BUDGET = WorkspaceSettings(reverify_monthly_credits=3100)  # at least 100 credits any day of any month


async def seed(store: JobStore, settings: WorkspaceSettingsStore) -> None:
    now = datetime.now(UTC)
    found = result(address(OLD, now - timedelta(days=200)), address(FRESH, now - timedelta(days=5)))
    item = Item(WS, "job_found", "000000", Lead(domain="acme.com"), ItemStatus.FOUND, 1, None, found, now)
    await store.create_job(Job(WS, "job_found", JobStatus.COMPLETED, now - timedelta(days=200)), [item])
    await settings.put(WS, BUDGET)


@pytest.fixture(autouse=True)
def data_platform_credit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUNTER_VERIFICATION_CREDIT", raising=False)  # 1 credit a verification
    monkeypatch.delenv("SUPABASE_URL", raising=False)


def test_a_dry_run_then_a_run_on_the_local_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database.in_dir(tmp_path)
    store = SqliteJobStore(db)
    asyncio.run(seed(store, SqliteWorkspaceSettings(db)))
    state = ["--state", str(tmp_path)]

    assert main(["reverify", "run", "--workspace", WS, "--dry-run", *state]) == 0
    out = capsys.readouterr().out
    assert "selected 1 addresses" in out and OLD in out and FRESH not in out
    assert "dry run: no job created" in out
    assert asyncio.run(store.list_jobs(WS, tag=TAG)).items == []

    assert main(["reverify", "run", "--workspace", WS, "--json", *state]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["note"] == "job created" and [a["email"] for a in report["selected"]] == [OLD]
    job = asyncio.run(store.get_job(WS, report["job_id"]))
    assert job is not None and (job.options.priority, job.options.tags) == (5, (TAG,))
    assert [i.lead.email for i in asyncio.run(store.list_items(WS, job.job_id)).items] == [OLD]
    entries = asyncio.run(SqliteAuditLog(db).query(AuditQuery(WS, action="reverify.run"))).items
    assert [(e.actor, e.target) for e in entries] == [("operator", job.job_id)]

    assert main(["reverify", "run", "--workspace", WS, *state]) == 0
    assert f"today's sweep job exists already: {job.job_id}" in capsys.readouterr().out
    assert len(asyncio.run(store.list_jobs(WS, tag=TAG)).items) == 1

    assert main(["reverify", "run", "--workspace", "globex", *state]) == 0
    assert "the sweep is off: set reverify_monthly_credits" in capsys.readouterr().out
    db.close()


def test_a_run_on_a_stack_s_table_needs_its_queues_unless_dry(
    stack: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    client = boto3.client("dynamodb")
    store = DynamoJobStore(TABLE, client, serialize_calls=True)
    asyncio.run(seed(store, DynamoWorkspaceSettings(TABLE, client)))
    table = ["--table", TABLE]

    assert main(["reverify", "run", "--workspace", WS, "--dry-run", *table]) == 0
    assert "selected 1 addresses" in capsys.readouterr().out

    queue_url = os.environ["QUEUE_URL"]
    monkeypatch.delenv("QUEUE_URL")
    assert main(["reverify", "run", "--workspace", WS, *table]) == 2
    assert "QUEUE_URL" in capsys.readouterr().err
    assert asyncio.run(store.list_jobs(WS, tag=TAG)).items == []

    monkeypatch.setenv("QUEUE_URL", queue_url)
    assert main(["reverify", "run", "--workspace", WS, *table]) == 0
    out = capsys.readouterr().out
    jobs = asyncio.run(store.list_jobs(WS, tag=TAG)).items
    assert len(jobs) == 1 and f"job created: {jobs[0].job_id}" in out
    sent = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    assert [jobs[0].job_id in m["Body"] for m in sent.get("Messages", [])] == [True]  # its one item
