"""The SQLite webhook log on a real file, beyond the contract in `tests/webhooks/test_webhook_log.py`: events,
attempts and the outbox outlive the process's `Database`, rows expire on the wall clock (an event seen a
week later is new again), and processors racing in threads take an outbox entry, or record an event, once."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from leadenrich.sqlite.db import Database
from leadenrich.sqlite.webhook_log import ATTEMPT_TTL_SECONDS, EVENT_TTL_SECONDS, SqliteWebhookLog
from leadenrich.webhooks.outbound import Attempt
from leadenrich.webhooks.wiring import EventLog
from tests.webhooks.test_webhook_log import EPOCH_T0, T0, delivery


class Clock:
    def __init__(self, now: float = EPOCH_T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def conforms(log: SqliteWebhookLog) -> EventLog:
    """mypy checks the adapter against the port here."""
    return log


async def test_events_attempts_and_the_outbox_outlive_the_database_object(path: Path) -> None:
    before = Database(path)
    log = SqliteWebhookLog(before, now=Clock())
    assert await log.record_event("hunter", "evt_1", {"type": "verification"})
    await log.record_attempt(delivery(), Attempt(1, T0, status_code=500))
    await log.schedule(delivery(), 2, T0 + timedelta(seconds=30))
    before.close()

    after = Database(path)
    try:
        log = SqliteWebhookLog(after, now=Clock())
        assert not await log.record_event("hunter", "evt_1", {})  # still a replay after the restart
        assert [a["status_code"] for a in await log.attempts("ws-a", "job_1")] == [500]
        [(key, hook, number)] = await log.due(T0 + timedelta(minutes=1), 10)
        assert (hook, number) == (delivery(), 2)
        assert await log.take(key)
    finally:
        after.close()


async def test_an_event_is_forgotten_after_its_time_to_live(db: Database) -> None:
    clock = Clock()
    log = SqliteWebhookLog(db, now=clock)
    assert await log.record_event("hunter", "evt_1", {})
    clock.now = EPOCH_T0 + EVENT_TTL_SECONDS - 1
    assert not await log.record_event("hunter", "evt_1", {})
    clock.now = EPOCH_T0 + EVENT_TTL_SECONDS
    assert await log.record_event("hunter", "evt_1", {})  # a week on: a new event, not a replay
    assert not await log.record_event("hunter", "evt_1", {})  # and remembered from then on


async def test_purging_deletes_expired_events_and_attempts_only(db: Database) -> None:
    clock = Clock()
    log = SqliteWebhookLog(db, now=clock)
    assert await log.record_event("hunter", "old", {})
    await log.record_attempt(delivery(job_id="old_job"), Attempt(1, T0, status_code=500))
    clock.now = EPOCH_T0 + EVENT_TTL_SECONDS
    assert await log.record_event("hunter", "new", {})
    await log.record_attempt(delivery(), Attempt(1, T0, status_code=200))
    await log.schedule(delivery(), 2, T0)  # the outbox does not expire: a retry is owed until taken

    assert log.purge_expired() == 1  # the old event; the old attempt keeps 30 days
    clock.now = EPOCH_T0 + ATTEMPT_TTL_SECONDS
    assert await log.attempts("ws-a", "old_job") == []  # expired: gone before the purge
    assert log.purge_expired() == 2  # the old attempt, and the new event's week is over too
    assert [a["status_code"] for a in await log.attempts("ws-a", "job_1")] == [200]
    assert len(await log.due(T0, 10)) == 1


def test_processors_racing_in_threads_take_an_entry_and_record_an_event_once(path: Path) -> None:
    databases = [Database(path), Database(path)]  # the processor's thread and a second processor
    logs = [SqliteWebhookLog(db) for db in databases]  # made first, as the local stack does at start
    asyncio.run(logs[0].schedule(delivery(), 2, T0))
    [(key, _, _)] = asyncio.run(logs[0].due(T0, 10))
    threads = 8
    start = threading.Barrier(threads, timeout=30)

    def race(index: int) -> tuple[bool, bool]:
        log = logs[index % 2]
        start.wait()  # each thread opens a connection of its own from here
        return asyncio.run(log.take(key)), asyncio.run(log.record_event("hunter", "evt_1", {}))

    try:
        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(race, range(threads)))
    finally:
        for db in databases:
            db.close()
    assert [taken for taken, _ in outcomes].count(True) == 1
    assert [recorded for _, recorded in outcomes].count(True) == 1
