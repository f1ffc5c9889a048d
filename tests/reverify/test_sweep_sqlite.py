"""The re-verification sweep on the embedded stack's real adapters (one SQLite file): the stale addresses
chosen oldest first and most used first, within the day's share of the monthly credits, as one low-priority
verification job a day; then that job's verdicts carried back: a changed one rewritten, audited by hash and
notified, an unchanged one only re-dated, each job once, and another workspace's items untouched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from leadenrich.jobs.creation import JobCreation
from leadenrich.jobs.models import ItemStatus, JobKind
from leadenrich.jobs.ports import CounterDelta
from leadenrich.privacy.identity import email_identity
from leadenrich.privacy.ports import AuditQuery, WorkspaceSettings
from leadenrich.reverify.service import (
    ACTION,
    CREDITS_PER_VERIFICATION,
    TAG,
    AddressChange,
    ReverifySweep,
    allowance,
    reserve_scope,
)
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.reverify import SqliteReverifyPlace
from leadenrich.sqlite.spend import SqliteSpendLedger
from tests.support.reverify_world import (
    CUTOFF,
    JOB_ID,
    NOW,
    OLDEST,
    OTHER,
    SHARED,
    SINGLE,
    VERIFIED,
    WS,
    address,
    graded,
    result,
    seed,
)

# November has 30 days; on the 22nd, 9 are left: 9 credits a month are 1 credit today, two verifications.
SETTINGS = WorkspaceSettings(reverify_after_days=90, reverify_monthly_credits=9)


class Notices:
    def __init__(self) -> None:
        self.changes: list[AddressChange] = []

    async def address_changed(self, change: AddressChange) -> None:
        self.changes.append(change)


class World:
    def __init__(self, db: Database) -> None:
        self.now = NOW
        self.store = SqliteJobStore(db)
        self.queue = SqliteWorkQueue(db)
        self.ledger = SqliteSpendLedger(db)
        self.audit = SqliteAuditLog(db)
        self.place = SqliteReverifyPlace(db)
        self.notices = Notices()
        self.sweep = ReverifySweep(
            [self.place],
            JobCreation(self.store, self.queue, clock=lambda: self.now),
            self.store,
            self.ledger,
            self.audit,
            self.notices,
            clock=lambda: self.now,
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    db = Database(tmp_path / "state.sqlite3")
    yield World(db)
    db.close()


async def test_selection_is_oldest_first_then_most_used_and_only_the_workspace_s(world: World) -> None:
    await seed(world.store)
    found = await world.place.stale(WS, CUTOFF, 10)
    assert [(a.email, a.uses) for a in found] == [(OLDEST, 1), (SHARED, 2), (SINGLE, 1)]
    assert found[0].verified_at == NOW - timedelta(days=300)
    assert [a.email for a in await world.place.stale(WS, CUTOFF, 2)] == [OLDEST, SHARED]
    assert await world.place.stale("ws-empty", CUTOFF, 10) == []


def test_the_day_s_allowance_spreads_what_is_left_of_the_month() -> None:
    assert allowance(9, 0.0, NOW) == 1.0
    assert allowance(9, 4.5, NOW) == 0.5
    assert allowance(9, 12.0, NOW) == 0.0
    assert allowance(30, 0.0, NOW.replace(day=1)) == 1.0


async def test_a_day_s_sweep_makes_one_low_priority_job_within_the_budget(world: World) -> None:
    await seed(world.store)
    dry = await world.sweep.run(WS, SETTINGS, dry_run=True)
    assert (dry.note, [a.email for a in dry.selected], dry.job_id) == ("dry run", [OLDEST, SHARED], None)
    assert (await world.store.list_jobs(WS, tag=TAG)).items == []

    report = await world.sweep.run(WS, SETTINGS)
    assert report.note == "job created" and report.job_id is not None
    job = await world.store.get_job(WS, report.job_id)
    assert job is not None and job.options.kind is JobKind.VERIFICATION
    assert (job.options.priority, job.options.tags, job.options.max_credits) == (5, (TAG,), 1.0)
    items = (await world.store.list_items(WS, job.job_id)).items
    assert [i.lead.email for i in items] == [OLDEST, SHARED]
    month = reserve_scope("2026-11")
    assert (await world.ledger.spent(WS, [month]))[month].credits == 2 * CREDITS_PER_VERIFICATION

    again = await world.sweep.run(WS, SETTINGS)
    assert (again.note, again.job_id) == ("ran today", job.job_id)
    world.now = NOW + timedelta(days=1)  # 8 days left, 8 credits: one a day again
    assert [a.email for a in (await world.sweep.run(WS, SETTINGS)).selected] == [OLDEST, SHARED]
    assert (await world.sweep.run(OTHER, WorkspaceSettings())).note == "off"  # no budget: no job
    assert (
        await world.sweep.run(WS, WorkspaceSettings(reverify_after_days=0, reverify_monthly_credits=9))
    ).note == "off"


async def _finish(world: World, job_id: str, verdicts: dict[str, dict[str, object]]) -> None:
    """The sweep job's items as the processor finishes them, with the verdicts given."""
    for item in (await world.store.list_items(WS, job_id)).items:
        claimed = await world.store.claim_item(
            WS,
            job_id,
            item.item_id,
            token=uuid.uuid4().hex,
            lease_until=world.now + timedelta(minutes=5),
            now=world.now,
        )
        assert claimed is not None and item.lead.email is not None
        entry = verdicts[item.lead.email]
        status = ItemStatus.INVALID if entry["status"] == "inactive" else ItemStatus.FOUND
        finished = await world.store.finish_item(
            claimed, status, reason=None, result=result(entry), delta=CounterDelta(processed=1), now=world.now
        )
        assert finished
    assert await world.store.complete_job_if_done(WS, job_id, world.now) is not None


async def test_a_changed_verdict_is_written_audited_and_notified_once(world: World) -> None:
    await seed(world.store)
    created = await world.sweep.run(WS, SETTINGS)
    assert created.job_id is not None
    bounced = address(OLDEST, None)  # valid 300 days ago, gone now
    await _finish(world, created.job_id, {OLDEST: bounced, SHARED: address(SHARED, NOW)})

    world.now = NOW + timedelta(days=1)
    report = await world.sweep.run(WS, SETTINGS)
    assert report.reconciled_jobs == [created.job_id]
    assert [(c.email, c.before.graded(), c.after.graded(), c.places) for c in report.changes] == [
        (OLDEST, VERIFIED, ("inactive", "undeliverable", "undeliverable"), {"job_items": 1})
    ]
    assert report.changes[0].job_ids == (JOB_ID[WS],)
    assert world.notices.changes == report.changes
    held = graded(await world.store.get_item(WS, JOB_ID[WS], "000001"))
    assert held[OLDEST] == ("inactive", "undeliverable", "undeliverable", None)
    assert graded(await world.store.get_item(WS, JOB_ID[WS], "000000"))[SHARED] == (
        *VERIFIED,
        NOW.isoformat(),
    )
    assert graded(await world.store.get_item(WS, JOB_ID[WS], "000002"))[SHARED] == (
        *VERIFIED,
        NOW.isoformat(),
    )
    bystander = graded(await world.store.get_item(OTHER, JOB_ID[OTHER], "000001"))
    assert bystander[OLDEST][:3] == VERIFIED

    entries = (await world.audit.query(AuditQuery(WS, action=ACTION))).items
    assert [(e.actor, e.target, e.job_id) for e in entries] == [
        ("processor", email_identity(OLDEST).key, created.job_id)
    ]
    assert OLDEST not in repr(entries[0].detail)
    # Both re-verified addresses dropped out of the selection: the next job takes the one left.
    assert [a.email for a in report.selected] == [SINGLE]

    world.now = NOW + timedelta(days=2)
    later = await world.sweep.run(WS, SETTINGS)
    assert later.reconciled_jobs == [] and later.changes == []  # reconciled once; day 1's job is not done
    assert len((await world.audit.query(AuditQuery(WS, action=ACTION))).items) == 1
