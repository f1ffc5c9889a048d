"""Recovery at start for the embedded stack: jobs that have work left and nothing in the queue.

Creating a job stores it and its items, then sends its first window of messages: two writes. Deployed
they are a DynamoDB write and an SQS call; locally both land in one SQLite file, but still in two
transactions, so a process killed between them leaves a job whose items are queued and whose messages
were never sent. Nothing would ever run them, and a resumed `enrich run` would wait for them forever.

Such a job is recognised by the two tables together (which is why this module reads both): it is pending
or running, some of its items are queued or deferred, and the queue holds no message of it at all (a
window always keeps at least one message of an unfinished job in the queue, hidden or not). Every one of
its unfinished items is sent again, but those in the dead-letter table (the queue's backstop moved them
there after 25 receives: `enrich dlq redrive` is their way back); a message for an item that also gets
one later from its window is a duplicate, which the store's conditional claim absorbs. Each goes to its
job's band, as the job's own sends would have.

Only safe while no other process uses the state: the local stack calls it holding the state's lock.
"""

from __future__ import annotations

import time

from leadenrich.jobs.models import WorkMessage
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.queue import INSERT_MESSAGE, message_row

_ORPHANED = """
SELECT i.workspace_id, i.job_id, i.item_id, j.priority
FROM job_items AS i
JOIN jobs AS j ON j.workspace_id = i.workspace_id AND j.job_id = i.job_id
WHERE j.status IN ('pending', 'running')
  AND i.status IN ('queued', 'deferred')
  AND NOT EXISTS (
      SELECT 1 FROM queue_messages AS m WHERE m.workspace = i.workspace_id AND m.job = i.job_id
  )
  AND NOT EXISTS (  -- dead-lettered by the queue's backstop: left for redrive, not resent at each start
      SELECT 1 FROM queue_dead_letters AS d
      WHERE d.workspace = i.workspace_id AND d.job = i.job_id AND d.item = i.item_id
  )
ORDER BY i.workspace_id, i.job_id, i.item_id
"""


def requeue_orphans(db: Database, now: float | None = None) -> int:
    """Send a message for every unfinished item of a job that has none in the queue; how many were sent.
    The job store's and the queue's tables must exist (their adapters were built on `db`)."""
    at = time.time() if now is None else now
    with db.write() as conn:
        rows = conn.execute(_ORPHANED).fetchall()
        messages = [WorkMessage(r[0], r[1], r[2], int(r[3])) for r in rows]
        conn.executemany(INSERT_MESSAGE, [message_row(m, at, at) for m in messages])
    return len(rows)


__all__ = ["requeue_orphans"]
