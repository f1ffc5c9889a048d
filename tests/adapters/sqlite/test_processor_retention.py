"""The processor's retention run: at most once an hour, again at once while a backlog is left, a failing
purge logged without stopping the others or the drain; and the processor Lambda on the embedded stack
purging a state file's expired jobs at its first invocation, not at the next minute's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import handle_process
from leadenrich import runtime
from leadenrich.jobs.models import ItemStatus
from leadenrich.jobs.retention import CacheCap, PurgeReport, RetentionPolicy, RetentionSchedule
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.settings import SqliteWorkspaceSettings
from tests.support.lambda_events import Context
from tests.support.store_contract import NOW, WS, claim, create, found


class ScriptedPurge:
    """A `RetentionPurge` answering the reports it is given, one per call (then nothing more)."""

    def __init__(self, name: str, *reports: PurgeReport | Exception) -> None:
        self.name = name
        self.reports = list(reports)
        self.calls: list[tuple[datetime, RetentionPolicy]] = []

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport:
        self.calls.append((now, policy))
        answer = self.reports.pop(0) if self.reports else PurgeReport({"rows": 0})
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_at_most_once_an_hour_with_every_workspace_s_settings(db: Database) -> None:
    settings = SqliteWorkspaceSettings(db)
    await settings.put("acme", WorkspaceSettings(results_retention_days=10, cache_retention_days=2))
    purge, cap = ScriptedPurge("p", PurgeReport({"rows": 3})), CacheCap()
    schedule = RetentionSchedule([purge], settings, cache_cap=cap)

    run = await schedule.run_if_due(NOW)
    assert run is not None and run.deleted == {"p.rows": 3} and not run.more
    assert purge.calls[0][1].of("acme").results_retention_days == 10 and cap.days == 2
    assert purge.calls[0][1].of("other") == WorkspaceSettings()
    assert await schedule.run_if_due(NOW + timedelta(minutes=59)) is None
    assert len(purge.calls) == 1
    assert await schedule.run_if_due(NOW + timedelta(minutes=60)) is not None
    assert len(purge.calls) == 2


async def test_a_backlog_continues_at_the_next_invocation(db: Database) -> None:
    ticks = iter(range(100))
    purge = ScriptedPurge("p", *(PurgeReport({"rows": 5}, more=True) for _ in range(10)))
    schedule = RetentionSchedule([purge], SqliteWorkspaceSettings(db), clock=lambda: float(next(ticks)))

    run = await schedule.run_if_due(NOW, seconds=2.5)  # time for three batches
    assert run is not None and run.more and run.deleted == {"p.rows": 15}
    assert schedule.due(NOW + timedelta(minutes=1))  # not an hour later: the next minute's run goes on
    run = await schedule.run_if_due(NOW + timedelta(minutes=1), seconds=100)
    assert run is not None and not run.more and run.deleted == {"p.rows": 35}
    assert not schedule.due(NOW + timedelta(minutes=2))


async def test_a_failing_purge_is_logged_and_the_others_still_run(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ScriptedPurge("supabase", ConnectionError("down"))
    fine = ScriptedPurge("sqlite", PurgeReport({"jobs": 1}))
    schedule = RetentionSchedule([broken, fine], SqliteWorkspaceSettings(db))
    with caplog.at_level(logging.ERROR, logger="leadenrich.jobs.retention"):
        run = await schedule.run_if_due(NOW)
    assert run is not None and run.failed == ["supabase"] and run.deleted == {"sqlite.jobs": 1}
    assert [r.getMessage() for r in caplog.records] == ["retention purge failed"]
    assert caplog.records[0].__dict__["error"] == "ConnectionError"
    assert not schedule.due(NOW + timedelta(minutes=5))  # tried again in an hour, not every minute


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    state = tmp_path / "state.sqlite3"
    for name, value in {
        "BACKEND": "embedded",
        "STATE_DB": str(state),
        "HUNTER_API_KEY": "unused-key",  # the queue is empty: no provider is called
        "PROCESSOR_BUDGET_SECONDS": "10",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    yield state
    runtime.reset()


def old_finished_job(store: SqliteJobStore, job_id: str) -> None:
    async def make() -> None:
        await create(store, job_id, 1)
        held = await claim(store, job_id)
        await store.finish_item(held, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=NOW)
        assert await store.complete_job_if_done(WS, job_id, NOW) is not None

    asyncio.run(make())


def test_the_processor_lambda_purges_the_state_file_once_an_hour(embedded: Path) -> None:
    db = Database(embedded)
    try:
        store = SqliteJobStore(db)
        old_finished_job(store, "old")  # finished in 2025: past the default 90 days
        asyncio.run(create(store, "new", 1, created_at=datetime.now(UTC)))  # pending: never purged

        handle_process.handler({}, Context())  # type: ignore[arg-type]
        assert asyncio.run(store.get_job(WS, "old")) is None
        assert asyncio.run(store.get_job(WS, "new")) is not None

        old_finished_job(store, "older")
        handle_process.handler({}, Context())  # type: ignore[arg-type]  # the next minute: not due
        assert asyncio.run(store.get_job(WS, "older")) is not None
    finally:
        db.close()
