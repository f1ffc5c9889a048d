"""The SQLite work queue on a real file: the shared `WorkQueue` and priority contracts
(tests/support/queue_contract.py, priority_queue_contract.py) with a fake clock, plus what is the SQLite
queue's own: its order (bands, then oldest visible first, round-robin across workspaces within a band), a
state file from before priorities, stale receipt handles, the 12-hour bound of `retry_later`, the reason
of a dead letter, the state outliving its `Database`, threads receiving at once, and `next_visible_at` for
the local scheduler.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadenrich.jobs.models import Band, Received, WorkMessage
from leadenrich.jobs.ports import QueueDepth, WorkQueue
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.queue import SqliteWorkQueue
from tests.support.priority_queue_contract import PriorityQueueContract, at
from tests.support.queue_contract import EMPTY, Elapse, MakeQueue, WorkQueueContract, messages

T0 = 1_750_000_000.0


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(db: Database, clock: FakeClock) -> SqliteWorkQueue:
    return SqliteWorkQueue(db, clock=clock)


@pytest.fixture
def make_queue(tmp_path: Path, clock: FakeClock) -> Iterator[MakeQueue]:
    opened: list[Database] = []

    def make(max_receive_count: int) -> WorkQueue:
        opened.append(Database(tmp_path / f"fragile-{len(opened)}.sqlite3"))
        return SqliteWorkQueue(opened[-1], max_receive_count=max_receive_count, clock=clock)

    yield make
    for database in opened:
        database.close()


@pytest.fixture
def elapse(clock: FakeClock) -> Elapse:
    async def move_on(seconds: float) -> None:
        clock.now += seconds

    return move_on


def conforms(queue: SqliteWorkQueue) -> WorkQueue:
    """mypy checks the adapter against the port here."""
    return queue


class TestSqliteWorkQueue(WorkQueueContract):
    """The shared contract on SQLite."""


class TestSqlitePriorities(PriorityQueueContract):
    """The priority bands' contract on SQLite (a band column of the one table)."""


def items(received: list[Received]) -> list[tuple[str, str]]:
    return [(r.message.workspace_id, r.message.item_id) for r in received]


def dead_letters(db: Database) -> list[tuple[str, str, int]]:
    rows = db.read().execute("SELECT item, reason, receive_count FROM queue_dead_letters ORDER BY rowid")
    return [(row["item"], row["reason"], row["receive_count"]) for row in rows]


# --- order --------------------------------------------------------------------------------------------------


async def test_receive_returns_the_oldest_visible_first(queue: SqliteWorkQueue, clock: FakeClock) -> None:
    await queue.send(messages(2))  # 0000 and 0001, visible at T0
    [first] = await queue.receive(1, visibility_timeout=5)  # 0000, visible again at T0 + 5
    clock.now += 10
    await queue.send([WorkMessage("ws", "j1", "0002")])  # visible at T0 + 10

    received = await queue.receive(10, visibility_timeout=30)

    assert first.message.item_id == "0000"
    assert items(received) == [("ws", "0001"), ("ws", "0000"), ("ws", "0002")]


async def test_receive_takes_workspaces_in_turn(queue: SqliteWorkQueue, clock: FakeClock) -> None:
    await queue.send(messages(20, workspace="ws-big"))
    clock.now += 1
    await queue.send(messages(2, workspace="ws-small"))
    clock.now += 1
    await queue.send(messages(1, workspace="ws-late"))

    received = await queue.receive(7, visibility_timeout=30)

    # Turn by turn, each workspace's oldest first; within a turn, the workspace waiting longest first.
    assert items(received) == [
        ("ws-big", "0000"),
        ("ws-small", "0000"),
        ("ws-late", "0000"),
        ("ws-big", "0001"),
        ("ws-small", "0001"),
        ("ws-big", "0002"),
        ("ws-big", "0003"),
    ]


async def test_workspaces_take_turns_within_a_band_and_a_higher_band_comes_first(
    queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    await queue.send(at(5, 3, workspace="ws-big") + at(1, 4, workspace="ws-big"))
    clock.now += 1
    await queue.send(at(2, 2, workspace="ws-small") + at(5, 1, workspace="ws-small"))

    received = await queue.receive(9, visibility_timeout=30)

    assert [(r.message.workspace_id, r.message.job_id, r.message.item_id) for r in received] == [
        ("ws-big", "p1", "0000"),
        ("ws-small", "p2", "0000"),
        ("ws-big", "p1", "0001"),
        ("ws-small", "p2", "0001"),
        ("ws-big", "p1", "0002"),
        ("ws-big", "p1", "0003"),
        ("ws-big", "p5", "0000"),  # the low band: its own rotation
        ("ws-small", "p5", "0000"),
        ("ws-big", "p5", "0001"),
    ]


# The queue's tables as a state file made before priorities has them.
BEFORE_PRIORITIES = """
CREATE TABLE queue_messages (
    id TEXT PRIMARY KEY, workspace TEXT NOT NULL, job TEXT NOT NULL, item TEXT NOT NULL,
    sent_at REAL NOT NULL, visible_at REAL NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT UNIQUE, received_at REAL, retimed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX queue_messages_by_visible_at ON queue_messages (visible_at);
CREATE TABLE queue_dead_letters (
    id TEXT PRIMARY KEY, workspace TEXT NOT NULL, job TEXT NOT NULL, item TEXT NOT NULL,
    sent_at REAL NOT NULL, receive_count INTEGER NOT NULL, reason TEXT NOT NULL, dead_at REAL NOT NULL
);
INSERT INTO queue_messages (id, workspace, job, item, sent_at, visible_at)
VALUES ('m1', 'ws', 'old', '0000', 1, 1);
INSERT INTO queue_dead_letters VALUES ('m2', 'ws', 'old', '0001', 1, 3, 'provider down', 2);
"""


async def test_a_state_from_before_priorities_keeps_its_messages_in_the_normal_band(
    tmp_path: Path, clock: FakeClock
) -> None:
    old = Database(tmp_path / "old.sqlite3")
    old.connection().executescript(BEFORE_PRIORITIES)
    try:
        queue = SqliteWorkQueue(old, clock=clock)
        await queue.send(at(1, 1, job="new"))

        received = await queue.receive(5, visibility_timeout=30)
        moved = await queue.redrive()
    finally:
        old.close()

    assert [(r.message.job_id, r.message.priority, r.band) for r in received] == [
        ("new", 1, Band.HIGH),
        ("old", 3, Band.NORMAL),
    ]
    assert moved == [WorkMessage("ws", "old", "0001", 3)]


# --- receipt handles ----------------------------------------------------------------------------------------


async def test_a_stale_handle_neither_deletes_nor_retimes_nor_dead_letters_the_newer_delivery(
    queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    await queue.send(messages(1))
    [stale] = await queue.receive(1, visibility_timeout=1)
    clock.now += 1
    [current] = await queue.receive(1, visibility_timeout=30)  # the first processor was too slow

    await queue.delete(stale)
    await queue.retry_later(stale, 0)
    await queue.dead_letter(stale, "x")

    assert await queue.depth() == QueueDepth(visible=0, in_flight=1, delayed=0, dead_letters=0)
    assert queue.next_visible_at() == T0 + 1 + 30  # still the newer delivery's timeout
    await queue.delete(current)
    assert await queue.depth() == EMPTY


async def test_a_handle_whose_message_is_gone_changes_nothing(queue: SqliteWorkQueue) -> None:
    await queue.send(messages(1))
    [received] = await queue.receive(1, visibility_timeout=30)
    await queue.delete(received)

    await queue.retry_later(received, 5)
    await queue.dead_letter(received, "x")

    assert await queue.depth() == EMPTY


async def test_retry_later_hides_at_most_until_12_hours_after_the_receive(
    queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    await queue.send(messages(1))
    [received] = await queue.receive(1, visibility_timeout=30)
    clock.now += 100

    await queue.retry_later(received, 50_000)

    assert queue.next_visible_at() == T0 + 43_200


# --- dead letters -------------------------------------------------------------------------------------------


async def test_a_dead_letter_keeps_its_reason_cut_to_256_characters(
    queue: SqliteWorkQueue, db: Database
) -> None:
    await queue.send(messages(2))
    first, second = await queue.receive(2, visibility_timeout=30)

    await queue.dead_letter(first, "attempts exhausted: " + "x" * 300)
    await queue.dead_letter(second, "")

    assert dead_letters(db) == [
        ("0000", ("attempts exhausted: " + "x" * 300)[:256], 1),
        ("0001", "", 1),
    ]


async def test_the_backstop_is_25_receives_by_default_and_names_itself_as_the_reason(
    queue: SqliteWorkQueue, db: Database
) -> None:
    await queue.send(messages(1))
    counts = [r.receive_count for _ in range(26) for r in await queue.receive(1, visibility_timeout=0)]

    assert counts == list(range(1, 26))
    assert dead_letters(db) == [("0000", "received more than 25 times", 25)]


async def test_the_backstop_moves_a_message_only_when_it_would_be_delivered_again(
    make_queue: MakeQueue, elapse: Elapse
) -> None:
    queue = make_queue(1)
    await queue.send(messages(1))
    await queue.receive(1, visibility_timeout=30)

    assert await queue.receive(1, visibility_timeout=30) == []  # in flight: not moved while held
    assert (await queue.depth()).in_flight == 1
    await elapse(30)
    assert (await queue.depth()).visible == 1  # visible, still in the queue until a receive comes

    assert await queue.receive(1, visibility_timeout=30) == []
    assert await queue.depth() == QueueDepth(visible=0, in_flight=0, delayed=0, dead_letters=1)


def test_max_receive_count_is_checked_like_sqs_redrive_policy(db: Database) -> None:
    with pytest.raises(ValueError, match="max_receive_count must be an integer from 1 to 1000"):
        SqliteWorkQueue(db, max_receive_count=0)


async def test_redrive_returns_dead_letters_oldest_first_as_new_messages(
    queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    await queue.send(messages(3))
    received = await queue.receive(3, visibility_timeout=30)
    for r in reversed(received):  # 0002 dies first
        await queue.dead_letter(r, "x")
        clock.now += 1

    moved = await queue.redrive()

    assert [m.item_id for m in moved] == ["0002", "0001", "0000"]
    back = await queue.receive(3, visibility_timeout=30)
    assert {r.message_id for r in back}.isdisjoint(r.message_id for r in received)


# --- the file -----------------------------------------------------------------------------------------------


async def test_the_queue_outlives_its_database(path: Path, clock: FakeClock) -> None:
    before = Database(path)
    queue = SqliteWorkQueue(before, clock=clock)
    await queue.send(messages(3))
    await queue.send(messages(1, job="later"), delay_seconds=60)
    in_flight, doomed = await queue.receive(2, visibility_timeout=30)
    await queue.dead_letter(doomed, "x")
    before.close()

    after = Database(path)
    try:
        reopened = SqliteWorkQueue(after, clock=clock)
        assert await reopened.depth() == QueueDepth(visible=1, in_flight=1, delayed=1, dead_letters=1)
        await reopened.delete(in_flight)  # a handle from before the restart still holds its message
        assert await reopened.depth() == QueueDepth(visible=1, in_flight=0, delayed=1, dead_letters=1)
        assert await reopened.redrive() == [doomed.message]
    finally:
        after.close()


def test_threads_receiving_at_once_never_get_the_same_message(db: Database, clock: FakeClock) -> None:
    sent = [WorkMessage(f"ws-{i % 3}", "j", f"{i:04d}") for i in range(300)]
    asyncio.run(SqliteWorkQueue(db, clock=clock).send(sent))
    start = threading.Barrier(4)
    got: list[list[Received]] = [[] for _ in range(4)]

    def consume(index: int) -> None:
        queue = SqliteWorkQueue(db, clock=clock)  # each thread opens its own connection to the file

        async def drain() -> None:
            while batch := await queue.receive(7, visibility_timeout=600):
                got[index].extend(batch)
                await asyncio.sleep(0)

        start.wait()
        asyncio.run(drain())

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [r.message for batch in got for r in batch]
    assert len(everything) == len(set(everything)) == 300
    assert set(everything) == set(sent)
    assert all(r.receive_count == 1 for batch in got for r in batch)


async def test_release_in_flight_shows_what_a_dead_process_received_but_keeps_backoffs(
    queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    await queue.send(messages(3))
    await queue.send(messages(1, job="later"), delay_seconds=60)
    held, backed_off = await queue.receive(2, visibility_timeout=600)
    await queue.retry_later(backed_off, 300)
    clock.now += 10

    assert queue.release_in_flight() == 1

    assert await queue.depth() == QueueDepth(visible=2, in_flight=1, delayed=1, dead_letters=0)
    again = await queue.receive(10, visibility_timeout=600)
    assert sorted(items(again)) == [("ws", "0000"), ("ws", "0002")]
    assert {r.message.item_id: r.receive_count for r in again} == {held.message.item_id: 2, "0002": 1}
    assert queue.next_visible_at() == T0 + 60  # then the delayed one; the backed-off one at T0 + 300
    assert queue.release_in_flight() == 2  # what this receive took: hidden by its visibility timeout


# --- next_visible_at ----------------------------------------------------------------------------------------


async def test_next_visible_at_says_when_a_message_can_be_received(
    queue: SqliteWorkQueue, clock: FakeClock
) -> None:
    assert queue.next_visible_at() is None  # empty

    await queue.send(messages(1), delay_seconds=30)
    assert queue.next_visible_at() == T0 + 30

    await queue.send(messages(1, job="now"))
    assert queue.next_visible_at() == T0  # one is visible now

    clock.now += 5
    assert queue.next_visible_at() == T0 + 5  # still visible: now, not the past
    [received] = await queue.receive(1, visibility_timeout=60)
    assert received.message.job_id == "now"
    assert queue.next_visible_at() == T0 + 30  # the delayed one comes before the one in flight

    assert await queue.receive(1, visibility_timeout=0) == []  # the delayed one is not visible yet
    await queue.delete(received)
    clock.now += 25
    [late] = await queue.receive(1, visibility_timeout=30)
    await queue.dead_letter(late, "x")
    assert queue.next_visible_at() is None  # dead letters are not waiting to be received
