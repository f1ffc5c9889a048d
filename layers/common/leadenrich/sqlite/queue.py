"""The work queue on SQLite for the embedded local stack: SQS's semantics on two tables.

What it keeps from SQS (and the contract in `tests/jobs/queue_contract.py` holds both adapters to):

- **Visibility.** `receive` hides each message for `visibility_timeout` seconds, gives it a new receipt
  handle and adds one to its receive count; a message not deleted in time is delivered again.
- **Delays.** `send(..., delay_seconds=)` and `retry_later` make a message visible later. `retry_later`
  never hides a message past 12 h after its receive (SQS refuses more; this clamps, as `SqsWorkQueue` does).
- **The redrive backstop.** A message received `max_receive_count` times (25 by default, as
  `create_queues` sets for SQS) goes to the dead letters by itself at the next receive that would deliver it
  again, with the reason `received more than N times`: a message that kills its processor every time
  cannot loop forever.
- **Dead letters** keep the caller's reason (cut to 256 characters, as the SQS attribute is); `redrive`
  puts them back as new messages (new id, receive count 0), optionally only one workspace's.

What it does differently, on purpose:

- **Stale receipt handles are ignored.** Each receive replaces the message's handle, and every call that
  takes a handle matches the current one only. A handle from an earlier delivery (its visibility ran out
  and the message was received again) deletes, re-times or dead-letters nothing: the newer delivery owns the
  message. Real SQS may still honour an old handle's delete; here the safe behaviour is the rule. A handle
  whose message is gone (deleted, dead-lettered) is not an error either, for `delete` as for the others.
- **Priority bands, then fair order.** Each message has its job's priority and band (`models.Band`), and
  `receive` asks the bands as the deployed queues are asked (`jobs.priorities.receive_in_turn`: highest
  first, every tenth message offered to a lower band). Within a band it returns visible messages
  oldest-visible first, round-robin across workspaces: every workspace's oldest message, then every
  workspace's second oldest, and so on. SQS fair queues do the same in spirit (`MessageGroupId` =
  workspace); here it is exact, so one workspace's 10,000-lead job does not starve another's five leads.
  The bands share one table (a column, not a table each), so the scheduler, recovery and `depth` see one
  queue, as its one dead-letter table holds every band's dead letters with their priority.
- **No malformed messages.** A message is stored as columns, not a body: `send` refuses what
  `encode_message` would (`WorkMessage.check`: empty ids, a priority outside 1-5), before writing
  anything; a whole `send` is one transaction.

Two methods are not the port's, for the local stack: `next_visible_at` (when its scheduler should tick
next) and `release_in_flight` (at its start, after a crash).

Time is wall-clock epoch seconds from `clock`, because the queue outlives the process; long polling
(`wait_seconds`) waits in real time, polling the table every `POLL_SECONDS` with an async sleep, never
inside a transaction. Every state change is one `Database.write()` transaction (BEGIN IMMEDIATE), so two
threads or processes receiving at once never get the same delivery.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence

from leadenrich.aws.sqs_messages import MAX_REASON_CHARS
from leadenrich.jobs.models import Band, Received, WorkMessage
from leadenrich.jobs.ports import (
    MAX_BATCH,
    MAX_DELAY_SECONDS,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
    QueueDepth,
    check_range,
)
from leadenrich.jobs.priorities import BandTurns, receive_in_turn
from leadenrich.sqlite.db import Database, add_missing_columns

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # how often a long poll looks at the table again
MAX_RECEIVE_COUNT_LIMIT = 1000  # SQS's bound for a redrive policy's maxReceiveCount

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_messages (
    id             TEXT PRIMARY KEY,  -- the message id (new on send and on redrive)
    workspace      TEXT NOT NULL,
    job            TEXT NOT NULL,
    item           TEXT NOT NULL,
    sent_at        REAL NOT NULL,     -- epoch seconds
    visible_at     REAL NOT NULL,     -- visible when visible_at <= now
    receive_count  INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT UNIQUE,       -- the latest delivery's; NULL until the first receive
    received_at    REAL,              -- the latest receive (bounds retry_later to 12 h after it)
    retimed        INTEGER NOT NULL DEFAULT 0, -- 1: hidden by retry_later since the latest receive
    priority       INTEGER NOT NULL DEFAULT 3, -- its job's
    band           TEXT NOT NULL DEFAULT 'normal'  -- Band.of(priority): what receive orders by
);
CREATE INDEX IF NOT EXISTS queue_messages_by_visible_at ON queue_messages (visible_at);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
    id            TEXT PRIMARY KEY,   -- the id the message had in the queue
    workspace     TEXT NOT NULL,
    job           TEXT NOT NULL,
    item          TEXT NOT NULL,
    sent_at       REAL NOT NULL,
    receive_count INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    dead_at       REAL NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 3
);
CREATE INDEX IF NOT EXISTS queue_dead_letters_by_workspace ON queue_dead_letters (workspace, dead_at);
"""
# Added with priorities: a file made before them gets the columns (its messages are the normal band's, as
# they were in the one queue), then the index that needs them.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("queue_messages", "priority", "INTEGER NOT NULL DEFAULT 3"),
    ("queue_messages", "band", "TEXT NOT NULL DEFAULT 'normal'"),
    ("queue_dead_letters", "priority", "INTEGER NOT NULL DEFAULT 3"),
)
BAND_INDEX = "CREATE INDEX IF NOT EXISTS queue_messages_by_band ON queue_messages (band, visible_at);"
INSERT_MESSAGE = """
INSERT INTO queue_messages (id, workspace, job, item, sent_at, visible_at, priority, band)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""

# The redrive backstop, then `dead_letter`: copy the row with (reason, now), then delete it from the queue.
_BACKSTOP = """
INSERT INTO queue_dead_letters (id, workspace, job, item, sent_at, receive_count, reason, dead_at, priority)
SELECT id, workspace, job, item, sent_at, receive_count, ?, ?, priority FROM queue_messages
WHERE visible_at <= ? AND receive_count >= ?
"""
_BACKSTOP_DELETE = "DELETE FROM queue_messages WHERE visible_at <= ? AND receive_count >= ?"
_DEAD_LETTER = """
INSERT INTO queue_dead_letters (id, workspace, job, item, sent_at, receive_count, reason, dead_at, priority)
SELECT id, workspace, job, item, sent_at, receive_count, ?, ?, priority FROM queue_messages
WHERE receipt_handle = ?
"""
_DELETE = "DELETE FROM queue_messages WHERE receipt_handle = ?"

# One band's messages, round-robin across workspaces: each workspace's messages are numbered oldest-visible
# first (`turn`), and turn 1 of every workspace comes before turn 2 of any; within a turn, oldest-visible
# first. Ties on visible_at fall back to the rowid, which grows with every insert among the live rows
# (send order).
_PICK = """
SELECT id, workspace, job, item, receive_count, priority FROM (
    SELECT id, workspace, job, item, receive_count, priority, visible_at, rowid AS seq,
           ROW_NUMBER() OVER (PARTITION BY workspace ORDER BY visible_at, rowid) AS turn
    FROM queue_messages WHERE band = ? AND visible_at <= ?
) ORDER BY turn, visible_at, seq LIMIT ?
"""


class SqliteWorkQueue:
    """`WorkQueue` on the local stack's SQLite file (`leadenrich.sqlite.db.Database`)."""

    def __init__(
        self, db: Database, *, max_receive_count: int = 25, clock: Callable[[], float] = time.time
    ) -> None:
        check_range("max_receive_count", max_receive_count, 1, MAX_RECEIVE_COUNT_LIMIT)
        self._db = db
        self._max_receive_count = max_receive_count
        self._clock = clock
        self._receiving = True
        self._turns = BandTurns()  # one per queue object, as each process has one
        db.ensure_schema("queue", SCHEMA)
        add_missing_columns(db, ADDED_COLUMNS)
        db.ensure_schema("queue bands", BAND_INDEX)

    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        """Enqueue every message, each in its band, in one transaction; returns ceil(n / 10), the
        SendMessageBatch calls SQS would have taken (the port's meaning). Refuses the whole send if one
        message has an empty id or a priority outside 1-5."""
        check_range("delay_seconds", delay_seconds, 0, MAX_DELAY_SECONDS)
        for message in messages:
            message.check()  # the same refusal as SQS's producer: before anything is written
        if not messages:
            return 0
        now = self._clock()
        with self._db.write() as conn:
            conn.executemany(INSERT_MESSAGE, [message_row(m, now, now + delay_seconds) for m in messages])
        return -(-len(messages) // MAX_BATCH)

    async def receive(
        self, max_messages: int, *, visibility_timeout: int, wait_seconds: int = 0
    ) -> list[Received]:
        """Up to `max_messages` visible messages (bands in turn, fair order within a band: see the module
        docstring), each hidden for `visibility_timeout` seconds. With `wait_seconds`, an empty queue is
        asked again every `POLL_SECONDS` until a message comes or the wait (real time) ends."""
        check_range("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_SECONDS)
        check_range("wait_seconds", wait_seconds, 0, MAX_WAIT_SECONDS)
        if max_messages <= 0 or not self._receiving:
            return []

        async def fetch(band: Band, want: int) -> list[Received]:
            return self._receive_now(band, want, visibility_timeout)

        until = time.monotonic() + wait_seconds
        while True:
            received = await receive_in_turn(self._turns, max_messages, fetch)
            left = until - time.monotonic()
            if received or left <= 0:
                return received
            await asyncio.sleep(min(POLL_SECONDS, left))

    def stop_receiving(self) -> None:
        """From now on `receive` returns nothing, so a processor finishes what it holds and takes nothing
        new (the local stack on Ctrl-C). Messages stay queued for the next process."""
        self._receiving = False

    def _receive_now(self, band: Band, max_messages: int, visibility_timeout: int) -> list[Received]:
        """One band's messages, one transaction (a receive takes the bands one transaction each)."""
        now = self._clock()
        received: list[Received] = []
        with self._db.write() as conn:
            self._backstop(conn, now)
            for row in conn.execute(_PICK, (band.value, now, max_messages)).fetchall():
                handle = uuid.uuid4().hex
                count = row["receive_count"] + 1
                conn.execute(
                    "UPDATE queue_messages SET receive_count = ?, receipt_handle = ?, received_at = ?,"
                    " visible_at = ?, retimed = 0 WHERE id = ?",
                    (count, handle, now, now + visibility_timeout, row["id"]),
                )
                message = WorkMessage(row["workspace"], row["job"], row["item"], row["priority"])
                received.append(Received(message, handle, count, row["id"], band))
        return received

    def _backstop(self, conn: sqlite3.Connection, now: float) -> None:
        """SQS's redrive policy: a visible message already received `max_receive_count` times is
        dead-lettered instead of delivered again."""
        limit = self._max_receive_count
        conn.execute(_BACKSTOP, (f"received more than {limit} times", now, now, limit))
        moved = conn.execute(_BACKSTOP_DELETE, (now, limit)).rowcount
        if moved:
            log.warning("dead-lettered %d message(s) received more than %d times", moved, limit)

    async def delete(self, received: Received) -> None:
        """Acknowledge. A handle that is gone or stale (the message was received again since) deletes
        nothing and is not an error."""
        with self._db.write() as conn:
            conn.execute(_DELETE, (received.receipt_handle,))

    async def retry_later(self, received: Received, delay_seconds: int) -> None:
        """Make the message visible again after `delay_seconds`, at most 12 h after its receive (clamped,
        as `SqsWorkQueue` does). A gone or stale handle changes nothing."""
        if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int) or delay_seconds < 0:
            raise ValueError(f"delay_seconds must be a non-negative integer, got {delay_seconds!r}")
        now = self._clock()
        with self._db.write() as conn:
            conn.execute(
                "UPDATE queue_messages SET visible_at = MAX(?, MIN(?, received_at + ?)), retimed = 1"
                " WHERE receipt_handle = ?",
                (now, now + delay_seconds, MAX_VISIBILITY_SECONDS, received.receipt_handle),
            )

    async def dead_letter(self, received: Received, reason: str) -> None:
        """Move the message to the dead letters with `reason` (cut to 256 characters), in one transaction.
        A gone or stale handle moves nothing: the newer delivery decides what becomes of the message."""
        handle = received.receipt_handle
        with self._db.write() as conn:
            conn.execute(_DEAD_LETTER, (reason[:MAX_REASON_CHARS], self._clock(), handle))
            conn.execute(_DELETE, (handle,))

    async def redrive(self, max_messages: int = 1000, workspace_id: str | None = None) -> list[WorkMessage]:
        """Move up to `max_messages` dead letters (only `workspace_id`'s when given), oldest first, back to
        the queue as new messages in their band, visible at once; returns the ones moved. One transaction."""
        if max_messages <= 0:
            return []
        now = self._clock()
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT rowid, workspace, job, item, priority FROM queue_dead_letters"
                " WHERE ?1 IS NULL OR workspace = ?1 ORDER BY dead_at, rowid LIMIT ?2",
                (workspace_id, max_messages),
            ).fetchall()
            moved = [WorkMessage(r["workspace"], r["job"], r["item"], r["priority"]) for r in rows]
            conn.executemany(INSERT_MESSAGE, [message_row(m, now, now) for m in moved])
            conn.executemany("DELETE FROM queue_dead_letters WHERE rowid = ?", [(r["rowid"],) for r in rows])
        return moved

    async def depth(self) -> QueueDepth:
        """Exact counts, from one statement (one snapshot). Delayed: sent with a delay and not received
        yet; in flight: received and hidden (its visibility timeout, or `retry_later`)."""
        row = (
            self._db.read()
            .execute(
                "SELECT COALESCE(SUM(visible_at <= :now), 0),"
                " COALESCE(SUM(visible_at > :now AND receive_count > 0), 0),"
                " COALESCE(SUM(visible_at > :now AND receive_count = 0), 0),"
                " (SELECT COUNT(*) FROM queue_dead_letters)"
                " FROM queue_messages",
                {"now": self._clock()},
            )
            .fetchone()
        )
        return QueueDepth(visible=row[0], in_flight=row[1], delayed=row[2], dead_letters=row[3])

    def release_in_flight(self) -> int:
        """For the local stack's start, when the process that held the file died with messages received:
        every message hidden by a receive's visibility timeout becomes visible now. Messages `retry_later`
        hid stay hidden: that is a backoff the store does not enforce by itself (a claim does not look at
        `next_attempt_at`). Only safe when no other consumer is running. Returns how many were released."""
        now = self._clock()
        with self._db.write() as conn:
            released = conn.execute(
                "UPDATE queue_messages SET visible_at = :now"
                " WHERE visible_at > :now AND receive_count > 0 AND retimed = 0",
                {"now": now},
            ).rowcount
        return int(released)

    def next_visible_at(self) -> float | None:
        """For the local scheduler: when the next message can be received (epoch seconds; now if one is
        visible already), or None when the queue holds no message (dead letters do not count)."""
        earliest = self._db.read().execute("SELECT MIN(visible_at) FROM queue_messages").fetchone()[0]
        return None if earliest is None else max(float(earliest), self._clock())


def message_row(message: WorkMessage, sent_at: float, visible_at: float) -> tuple[object, ...]:
    """A new message's columns, in `INSERT_MESSAGE`'s order (a new id: a redriven message starts afresh)."""
    m = message
    fields = (m.workspace_id, m.job_id, m.item_id, sent_at, visible_at, m.priority, m.band.value)
    return (uuid.uuid4().hex, *fields)


__all__ = ["INSERT_MESSAGE", "POLL_SECONDS", "SCHEMA", "SqliteWorkQueue", "message_row"]
