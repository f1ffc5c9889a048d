"""The SQLite job store on a real file: the shared `JobStore` contract, plus what is SQLite's own: the state
outlives the process's `Database`, stores on one file in several threads (the local stack's gateway and
processor) race through the file's write lock, a job is written in one transaction, and the listings read
through their indexes.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from leadenrich.jobs.models import BUDGET_REACHED, Item, ItemStatus, JobKind, JobOptions, JobStatus
from leadenrich.jobs.ports import Activity, CounterDelta, JobStore
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import JOB_CONTROL_COLUMNS, SqliteJobStore
from tests.support.store_contract import (
    LEASE,
    NOW,
    WS,
    JobStoreContract,
    all_items,
    claim,
    create,
    due_ids,
    found,
    item_of,
    job_of,
    new_job,
)
from tests.support.store_contract_uploads import READING


@pytest.fixture
def store(db: Database) -> SqliteJobStore:
    return SqliteJobStore(db)


def conforms(store: SqliteJobStore) -> JobStore:
    """mypy checks the adapter against the port here."""
    return store


class TestSqliteJobStore(JobStoreContract):
    """The shared contract (tests/support/store_contract.py) on SQLite."""


# --- SQLite's own -------------------------------------------------------------------------------------------


async def test_the_state_survives_a_new_database_on_the_same_file(store: SqliteJobStore, path: Path) -> None:
    """Given a job created, claimed and finished through one Database, when the file is opened again, then a
    fresh store reads the same job and item, datetimes tz-aware UTC to the microsecond."""
    created = await create(store, "j", 2, key="k")
    assert await store.start_job(WS, "j", NOW)
    held = await claim(store, "j")
    done_at = NOW + timedelta(seconds=1, microseconds=654321)
    result: dict[str, object] = {"emails": [{"email": "a@b.com", "score": 0.1}]}
    assert await store.finish_item(
        held, ItemStatus.FOUND, reason="ok", result=result, delta=found(cost=0.1), now=done_at
    )
    before_job, before_item = await job_of(store, "j"), await item_of(store, "j")

    reopened = Database(path)
    try:
        fresh = SqliteJobStore(reopened)
        job, item = await job_of(fresh, "j"), await item_of(fresh, "j")
        assert (job, item) == (before_job, before_item)
        assert await fresh.job_for_idempotency_key(WS, "k") == job
        assert (job.status, job.started_at, job.created_at) == (JobStatus.RUNNING, NOW, created.created_at)
        assert (job.counters.total, job.counters.processed, job.counters.cost_perplexity_usd) == (2, 1, 0.1)
        assert (item.status, item.reason, item.result) == (ItemStatus.FOUND, "ok", result)
        assert item.sent_next and item.updated_at == done_at and item.updated_at.tzinfo is UTC
        assert await fresh.activity(WS, since=NOW, now=done_at) == Activity(processed=1, found=1, failed=0)
        assert (await item_of(fresh, "j", "000001")).status is ItemStatus.QUEUED
    finally:
        reopened.close()


async def test_a_state_file_from_before_the_newer_columns_gets_them_and_keeps_its_jobs(path: Path) -> None:
    """Given a state file whose jobs table predates the `risky` and `request_fingerprint` columns (as an
    earlier version made it), when a store opens it, then they are added once, the old job reads with risky
    0 and no fingerprint, and counts go on."""
    old = Database(path)
    try:
        store = SqliteJobStore(old)
        await create(store, "j", 1)
        with old.write() as conn:
            conn.execute("ALTER TABLE jobs DROP COLUMN risky")  # the table as the earlier version made it
            conn.execute("ALTER TABLE jobs DROP COLUMN request_fingerprint")
    finally:
        old.close()

    reopened = Database(path)
    try:
        store = SqliteJobStore(reopened)
        old_job = await job_of(store, "j")
        assert (old_job.counters.risky, old_job.request_fingerprint) == (0, None)
        held = await claim(store, "j")
        assert await store.finish_item(
            held, ItemStatus.RISKY, reason=None, result={}, delta=CounterDelta(risky=1), now=NOW
        )
        assert (await job_of(store, "j")).counters.risky == 1
        SqliteJobStore(reopened)  # a second store on the same file adds nothing twice
    finally:
        reopened.close()


async def test_a_state_file_from_before_job_control_gets_its_columns_and_due_index(path: Path) -> None:
    """Given a state file whose jobs table predates pause, schedule, kind, caps and uploads (no columns, no
    due index), when a store opens it, then they are added once, the old job reads as an unscheduled,
    uncapped enrichment job, and it can be paused, rescheduled (an upload state too) and found due."""
    old = Database(path)
    try:
        store = SqliteJobStore(old)
        await create(store, "j", 1)
        with old.write() as conn:  # the table as the earlier version made it
            conn.execute("DROP INDEX jobs_due")
            for _, column, _ in JOB_CONTROL_COLUMNS:
                conn.execute(f"ALTER TABLE jobs DROP COLUMN {column}")
    finally:
        old.close()

    reopened = Database(path)
    try:
        store = SqliteJobStore(reopened)
        old_job = await job_of(store, "j")
        assert old_job.options == JobOptions() and (old_job.paused_reason, old_job.due_at) == (None, None)
        assert (await store.pause_job(WS, "j", reason=BUDGET_REACHED, now=NOW)) is not None
        options = JobOptions(kind=JobKind.VERIFICATION, run_at=NOW, max_credits=2.5, upload=READING)
        assert await store.update_job(WS, "j", options=options, due_at=NOW, expected_due_at=None, now=NOW)
        assert await due_ids(store) == [(WS, "j")]
        assert (await job_of(store, "j")).options == options  # the upload state as JSON text
        SqliteJobStore(reopened)  # a second store on the same file adds nothing twice
        indexes = {row[1] for row in reopened.read().execute("PRAGMA index_list(jobs)")}
        assert "jobs_due" in indexes
    finally:
        reopened.close()


def test_two_stores_in_two_threads_racing_on_one_claim_only_one_wins(path: Path) -> None:
    """Given two Databases on one file, each used by its own thread and event loop, when both claim the
    same item at once, then the file's write lock lets exactly one claim through."""
    setup = Database(path)
    asyncio.run(create(SqliteJobStore(setup), "j", 1))
    setup.close()
    databases = [Database(path), Database(path)]
    start = threading.Barrier(len(databases))

    def claim_in_thread(n: int) -> Item | None:
        store = SqliteJobStore(databases[n])
        start.wait(timeout=10)
        return asyncio.run(store.claim_item(WS, "j", "000000", token=f"t{n}", lease_until=LEASE, now=NOW))

    try:
        with ThreadPoolExecutor(max_workers=len(databases)) as pool:
            claims = list(pool.map(claim_in_thread, range(len(databases))))
        winners = [c for c in claims if c is not None]
        assert len(winners) == 1
        stored = asyncio.run(item_of(SqliteJobStore(databases[0]), "j"))
        assert stored == winners[0]
        assert (stored.status, stored.attempts) == (ItemStatus.RUNNING, 1)
    finally:
        for database in databases:
            database.close()


async def test_released_leases_expire_now_so_the_next_claim_takes_the_item(store: SqliteJobStore) -> None:
    """Given an item a dead process left running with a lease to LEASE, when the local stack starts again
    and releases leases at NOW, then a claim just after NOW takes it, and the old holder has lost it."""
    await create(store, "j", 2)
    held = await claim(store, "j", "000000", token="dead")

    assert store.release_leases(NOW) == 1
    assert store.release_leases(NOW) == 0  # expired already

    after = NOW + timedelta(seconds=1)
    taken = await store.claim_item(WS, "j", "000000", token="new", lease_until=LEASE, now=after)
    assert taken is not None and (taken.lease_token, taken.attempts) == ("new", 2)
    assert not await store.finish_item(
        held, ItemStatus.FOUND, reason=None, result=None, delta=found(), now=after
    )
    assert (await item_of(store, "j", "000001")).status is ItemStatus.QUEUED  # queued items are untouched


async def test_a_10000_item_job_is_written_in_one_transaction(store: SqliteJobStore, db: Database) -> None:
    """Given 10,000 items whose last id repeats an earlier one, creating the job stores nothing at all;
    without the duplicate, every item is stored and the job counts them."""
    job, items = new_job("big", 10_000)
    with pytest.raises(ValueError, match=r"^items: "):
        await store.create_job(job, [*items, replace(items[0], lead=items[1].lead)])
    assert await store.get_job(WS, "big") is None
    assert db.read().execute("SELECT count(*) FROM job_items").fetchone()[0] == 0

    created = await store.create_job(job, items)

    assert created.counters.total == 10_000
    assert db.read().execute("SELECT count(*) FROM job_items WHERE job_id = 'big'").fetchone()[0] == 10_000
    page = await store.list_items(WS, "big", status=ItemStatus.QUEUED, limit=3)
    assert [i.item_id for i in page.items] == ["000000", "000001", "000002"]


async def test_a_rejected_page_appends_nothing(store: SqliteJobStore) -> None:
    """A page holding an item id the job has already is refused whole, and the total is unchanged."""
    job = await create(store, "j", 2)
    _, items = new_job("j", 5)

    with pytest.raises(ValueError, match=r"^items: "):
        await store.append_items(job, items[1:])

    assert (await job_of(store, "j")).counters.total == 2
    assert [i.item_id for i in await all_items(store, "j")] == ["000000", "000001"]


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT * FROM jobs WHERE workspace_id = 'ws1' AND (created_at, job_id) < ('x', 'y')"
            " ORDER BY created_at DESC, job_id DESC LIMIT 3",
            "jobs_newest_first",
        ),
        (
            "SELECT * FROM job_items WHERE workspace_id = 'ws1' AND job_id = 'j' AND item_id > '0'"
            " ORDER BY item_id LIMIT 3",
            "sqlite_autoindex_job_items_1",
        ),
        (
            "SELECT * FROM job_items WHERE workspace_id = 'ws1' AND job_id = 'j' AND status = 'queued'"
            " AND item_id > '0' ORDER BY item_id LIMIT 3",
            "job_items_by_status",
        ),
        ("SELECT * FROM jobs WHERE workspace_id = 'ws1' AND idempotency_key = 'k'", "jobs_idempotency_key"),
        ("SELECT * FROM jobs WHERE due_at <= 'x' ORDER BY due_at, workspace_id, job_id LIMIT 3", "jobs_due"),
    ],
)
def test_listings_read_through_their_indexes_without_sorting(
    store: SqliteJobStore, db: Database, sql: str, index: str
) -> None:
    plan = " | ".join(row[3] for row in db.read().execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan
    assert "TEMP B-TREE" not in plan
