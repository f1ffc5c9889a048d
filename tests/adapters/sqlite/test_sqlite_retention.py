"""The embedded stack's retention purge on a real SQLite file: what is past its workspace's period goes (a
finished job with its items, a finished item of a running job, expired cache and webhook rows), what is not
stays (newer rows, a running job, active work), in batches that say when more is left."""

from __future__ import annotations

from datetime import datetime, timedelta

from leadenrich.jobs.models import ItemStatus, JobStatus
from leadenrich.jobs.ports import CounterDelta
from leadenrich.jobs.retention import DAY_SECONDS, RetentionPolicy
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.sqlite.cache import SqliteCache
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.retention import SqliteRetentionPurge
from leadenrich.sqlite.webhook_log import SqliteWebhookLog
from leadenrich.webhooks.outbound import Attempt, Delivery
from tests.support.store_contract import NOW, WS, claim, create, found, new_job

DAYS = timedelta(days=1)
POLICY = RetentionPolicy({WS: WorkspaceSettings(results_retention_days=30)})  # ws2: the default 90


async def finish_all(store: SqliteJobStore, job_id: str, n: int, now: datetime = NOW) -> None:
    for i in range(n):
        held = await claim(store, job_id, f"{i:06d}", token=f"t{i}")
        assert await store.finish_item(held, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=now)


def count(db: Database, table: str, job_id: str | None = None) -> int:
    where, params = (" WHERE job_id = ?", (job_id,)) if job_id else ("", ())
    return int(db.read().execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()[0])


async def test_finished_jobs_go_after_their_workspace_s_period_and_newer_ones_stay(db: Database) -> None:
    store, purge = SqliteJobStore(db), SqliteRetentionPurge(db)
    await create(store, "a", 2)
    await finish_all(store, "a", 2)
    assert await store.complete_job_if_done(WS, "a", NOW) is not None
    job, items = new_job("b", 2, workspace="ws2")
    await store.create_job(job, items)
    for item in items:
        held = await store.claim_item("ws2", "b", item.item_id, token="t", lease_until=NOW + DAYS, now=NOW)
        assert held is not None
        await store.finish_item(held, ItemStatus.FOUND, reason=None, result={}, delta=found(), now=NOW)
    assert await store.complete_job_if_done("ws2", "b", NOW) is not None

    report = await purge.purge(NOW + 29 * DAYS, POLICY, batch=100)
    assert report.deleted["jobs"] == report.deleted["job_items"] == 0 and not report.more

    report = await purge.purge(NOW + 31 * DAYS, POLICY, batch=100)
    assert (report.deleted["job_items"], report.deleted["jobs"]) == (2, 1)
    assert await store.get_job(WS, "a") is None and count(db, "job_items", "a") == 0
    assert await store.get_job("ws2", "b") is not None and count(db, "job_items", "b") == 2  # 90 days

    await purge.purge(NOW + 91 * DAYS, POLICY, batch=100)
    assert await store.get_job("ws2", "b") is None and count(db, "job_items") == 0


async def test_a_running_job_stays_and_loses_only_its_old_finished_items(db: Database) -> None:
    store, purge = SqliteJobStore(db), SqliteRetentionPurge(db)
    await create(store, "r", 3)
    assert await store.start_job(WS, "r", NOW)
    await finish_all(store, "r", 1)  # one finished at NOW, two still queued

    report = await purge.purge(NOW + 31 * DAYS, POLICY, batch=100)
    assert report.deleted == {"job_items": 1, "jobs": 0}
    job = await store.get_job(WS, "r")
    assert job is not None and job.status is JobStatus.RUNNING and job.counters.processed == 1
    statuses = [row["status"] for row in db.read().execute("SELECT status FROM job_items ORDER BY item_id")]
    assert statuses == ["queued", "queued"]


async def test_a_cancelled_job_counts_from_when_the_purge_first_saw_it_finished(db: Database) -> None:
    """The store records no cancel time: the purge's first sighting (within an hour of it) starts the
    period, and the cancelled job's never-run items go with it."""
    store, purge = SqliteJobStore(db), SqliteRetentionPurge(db)
    await create(store, "c", 2)
    assert await store.cancel_job(WS, "c", NOW + 10 * DAYS) is not None
    await purge.purge(NOW + 10 * DAYS, POLICY, batch=100)  # the processor's next hourly run notes it

    await purge.purge(NOW + 39 * DAYS, POLICY, batch=100)
    assert await store.get_job(WS, "c") is not None and count(db, "job_items", "c") == 2

    report = await purge.purge(NOW + 41 * DAYS, POLICY, batch=100)
    assert (report.deleted["job_items"], report.deleted["jobs"]) == (2, 1)
    assert count(db, "retention_finished") == 0


async def test_a_failed_job_goes_with_its_items_after_its_period_from_the_failure(db: Database) -> None:
    store, purge = SqliteJobStore(db), SqliteRetentionPurge(db)
    await create(store, "f", 2)
    assert await store.fail_job(WS, "f", NOW + 10 * DAYS) is not None

    await purge.purge(NOW + 39 * DAYS, POLICY, batch=100)
    assert await store.get_job(WS, "f") is not None and count(db, "job_items", "f") == 2

    report = await purge.purge(NOW + 41 * DAYS, POLICY, batch=100)
    assert (report.deleted["job_items"], report.deleted["jobs"]) == (2, 1)
    assert await store.get_job(WS, "f") is None


async def test_a_retried_job_is_no_longer_finished(db: Database) -> None:
    store, purge = SqliteJobStore(db), SqliteRetentionPurge(db)
    await create(store, "f", 1)
    held = await claim(store, "f")
    failed = CounterDelta(failed=1)
    assert await store.finish_item(held, ItemStatus.FAILED, reason="x", result=None, delta=failed, now=NOW)
    assert await store.complete_job_if_done(WS, "f", NOW) is not None
    await purge.purge(NOW + DAYS, POLICY, batch=100)
    assert count(db, "retention_finished") == 1

    await store.requeue_items(WS, "f", frozenset({ItemStatus.FAILED}), NOW + 40 * DAYS)  # reopened
    report = await purge.purge(NOW + 40 * DAYS, POLICY, batch=100)
    assert report.deleted == {"job_items": 0, "jobs": 0} and count(db, "retention_finished") == 0
    job = await store.get_job(WS, "f")
    assert job is not None and job.status is JobStatus.RUNNING


async def test_batches_say_when_more_is_left(db: Database) -> None:
    store, purge = SqliteJobStore(db), SqliteRetentionPurge(db)
    await create(store, "big", 5)
    await finish_all(store, "big", 5)
    await store.complete_job_if_done(WS, "big", NOW)
    later = NOW + 31 * DAYS
    reports = [await purge.purge(later, POLICY, batch=2) for _ in range(4)]
    assert [r.deleted["job_items"] for r in reports] == [2, 2, 1, 0]
    assert [r.deleted["jobs"] for r in reports] == [0, 0, 1, 0]
    assert [r.more for r in reports] == [True, True, False, False]


async def test_expired_cache_and_webhook_rows_go_and_the_cap_shortens_the_rest(db: Database) -> None:
    t0 = NOW.timestamp()
    cache = SqliteCache(db, clock=lambda: t0)
    await cache.put("old", {"v": 1}, 60)
    await cache.put("long", {"v": 2}, 30 * DAY_SECONDS)
    await cache.put("short", {"v": 3}, 2 * DAY_SECONDS)
    log = SqliteWebhookLog(db, now=lambda: t0)
    await log.record_event("standard", "evt_1", {"type": "x"})  # kept 7 days
    await log.record_attempt(Delivery(WS, "j", "https://h.example.com", "evt_2", "{}"), Attempt(1, NOW))

    strict = RetentionPolicy({"strict": WorkspaceSettings(cache_retention_days=5)})
    report = await SqliteRetentionPurge(db).purge(NOW + timedelta(hours=1), strict, batch=100)
    assert report.deleted["cache"] == 1 and report.deleted["webhooks"] == 0
    expiry = dict(db.read().execute("SELECT key, expires_at FROM cache").fetchall())
    assert expiry == {"long": t0 + 3600 + 5 * DAY_SECONDS, "short": t0 + 2 * DAY_SECONDS}

    report = await SqliteRetentionPurge(db).purge(NOW + 8 * DAYS, strict, batch=100)
    assert report.deleted["webhooks"] == 1 and report.deleted["cache"] == 2  # the event (7 days)
    assert count(db, "webhook_attempts") == 1  # 30 days


async def test_a_file_without_the_tables_purges_nothing(db: Database) -> None:
    report = await SqliteRetentionPurge(db).purge(NOW, RetentionPolicy(), batch=10)
    assert report.deleted == {} and not report.more
