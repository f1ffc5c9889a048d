"""`requeue_orphans`: at the local stack's start, a job with work left and no message in the queue (its
process died between storing the job and sending its first messages) gets a message per unfinished item;
every other job is left as it is. Real SQLite file, the real job store and queue on it, a fake clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from leadenrich.jobs.models import Band, ItemStatus, JobOptions, WorkMessage
from leadenrich.jobs.ports import CounterDelta
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.recovery import requeue_orphans
from tests.adapters.sqlite.test_sqlite_queue import T0, FakeClock
from tests.support.store_contract import NOW, WS, claim, create, new_job

VISIBILITY = 60


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "state.sqlite3")
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> SqliteJobStore:
    return SqliteJobStore(db)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> SqliteWorkQueue:
    return SqliteWorkQueue(db, clock=clock)


async def received(queue: SqliteWorkQueue) -> list[tuple[str, str, str]]:
    """Every message visible now, received (and so hidden), as (workspace, job, item), sorted."""
    got = await queue.receive(100, visibility_timeout=VISIBILITY)
    return sorted((r.message.workspace_id, r.message.job_id, r.message.item_id) for r in got)


async def test_a_job_that_never_got_its_messages_gets_one_per_unfinished_item(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue
) -> None:
    """Given a running job with nothing in the queue, one item found, one deferred and one queued, when
    the stack starts, the deferred and the queued item are sent, visible at once, and the processor
    receives exactly those."""
    await create(store, "orphan", 3)
    assert await store.start_job(WS, "orphan", NOW)
    done = await claim(store, "orphan", "000000")
    assert await store.finish_item(
        done, ItemStatus.FOUND, reason=None, result={}, delta=CounterDelta(processed=1, found=1), now=NOW
    )
    later = await claim(store, "orphan", "000001", token="t2")
    assert await store.defer_item(
        later, reason="throttled", next_attempt_at=NOW + timedelta(seconds=30), charge_attempt=True, now=NOW
    )

    sent = requeue_orphans(db, now=T0)

    assert sent == 2
    assert await received(queue) == [(WS, "orphan", "000001"), (WS, "orphan", "000002")]


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
async def test_a_job_with_a_message_in_the_queue_is_left_alone(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue, hidden: bool
) -> None:
    """Its window keeps at least one message in the queue; whether visible or received and hidden, the
    job's other items get their messages as its items finish, not from recovery."""
    await create(store, "windowed", 3)
    await queue.send([WorkMessage(WS, "windowed", "000000")])
    if hidden:
        assert len(await queue.receive(1, visibility_timeout=VISIBILITY)) == 1
    depth = await queue.depth()

    assert requeue_orphans(db, now=T0) == 0
    assert await queue.depth() == depth


async def test_finished_and_cancelled_jobs_are_left_alone(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue
) -> None:
    await create(store, "cancelled", 2)
    assert await store.cancel_job(WS, "cancelled", NOW) is not None  # its items stay queued
    await create(store, "completed", 1)
    item = await claim(store, "completed")
    assert await store.finish_item(
        item, ItemStatus.NOT_FOUND, reason=None, result={}, delta=CounterDelta(processed=1), now=NOW
    )
    assert await store.complete_job_if_done(WS, "completed", NOW) is not None

    assert requeue_orphans(db, now=T0) == 0
    assert await received(queue) == []


async def test_a_second_call_sends_nothing_more(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue
) -> None:
    await create(store, "orphan", 2)

    assert requeue_orphans(db, now=T0) == 2
    assert requeue_orphans(db, now=T0) == 0
    assert await received(queue) == [(WS, "orphan", "000000"), (WS, "orphan", "000001")]


async def test_another_workspaces_message_for_a_job_of_the_same_id_does_not_count(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue
) -> None:
    await create(store, "job", 1)  # WS: no message
    await create(store, "job", 1, workspace="other")
    await queue.send([WorkMessage("other", "job", "000000")])

    assert requeue_orphans(db, now=T0) == 1
    assert await received(queue) == [("other", "job", "000000"), (WS, "job", "000000")]


async def test_requeued_messages_are_sent_at_the_time_given(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    await create(store, "orphan", 1)
    clock.now = T0 - 10  # the queue's clock is behind the time the messages are sent at

    assert requeue_orphans(db, now=T0) == 1
    assert await received(queue) == []
    clock.now = T0
    assert await received(queue) == [(WS, "orphan", "000000")]


async def test_requeued_messages_go_to_their_jobs_band(
    db: Database, store: SqliteJobStore, queue: SqliteWorkQueue
) -> None:
    for job_id, priority in (("bulk", 5), ("urgent", 1)):
        job, items = new_job(job_id, 2)
        await store.create_job(dataclasses.replace(job, options=JobOptions(priority=priority)), items)

    assert requeue_orphans(db, now=T0) == 4
    got = await queue.receive(4, visibility_timeout=VISIBILITY)
    assert [(r.message.job_id, r.message.priority, r.band) for r in got] == [
        ("urgent", 1, Band.HIGH),
        ("urgent", 1, Band.HIGH),
        ("bulk", 5, Band.LOW),
        ("bulk", 5, Band.LOW),
    ]
