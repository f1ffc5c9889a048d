"""Feeding a job into the queue a window at a time, so one large job cannot bury another's items.

SQS hands out messages roughly in the order they were sent. If a 10,000-lead job put all its messages in
the queue at once, a 10-lead job created a minute later would wait behind them for hours. Instead a job
starts with its first `window` items in the queue, and as its items reach their first outcome, every tenth
one sends the next ten. A job never has much more than `window` messages waiting to be received, so any job
created later queues behind at most a window of each other job's, whatever their size.

Item ids are zero-padded sequence numbers (0, 1, ... total - 1), so what to send is arithmetic on ids,
without reading anything. The items whose index is a multiple of GROUP lead: item `j` sends items
`j + window ... j + window + GROUP - 1` (one SendMessageBatch, so feeding costs what enqueueing everything
at creation did). Every item `i >= window` has exactly one leader, `GROUP * floor((i - window) / GROUP)`.

Crash safety comes from the order: the processor sends an item's successors *before* its first outcome
(finish, deferral, dead letter or skip) commits, and the store marks the item `sent_next` in that same
write. A crash before the write leaves the item without an outcome, so it runs again and sends again; a
crash after leaves `sent_next` set. The only effect of a race is a duplicate message, which the store's
conditional claims make harmless; a missing message (a job that never completes) cannot happen.

A hand-back (deferred without an attempt charged: no provider capacity left this invocation) is an outcome
too. SQS counts every receive against the queue's redrive limit, so a leader handed back run after run
could otherwise reach the DLQ without ever sending, and hold back every item chained behind it.
"""

from __future__ import annotations

# Never change GROUP: jobs in flight rely on which items lead. It is SQS's batch size.
GROUP = 10
DEFAULT_WINDOW = 50  # about one processor invocation's items (MAX_ITEMS_PER_RUN)


def first_count(total: int, window: int | None) -> int:
    """How many of a new job's items go to the queue when it is created (None: all of them)."""
    return total if window is None else min(total, window)


def successors(item_id: str, window: int | None, total: int) -> list[str]:
    """The ids of the items that `item_id` sends to the queue at its first outcome (none for jobs made
    without a window, for items that do not lead, and past the job's end)."""
    if window is None:
        return []
    index = int(item_id)
    if index % GROUP:
        return []
    start = index + window
    return [f"{i:0{len(item_id)}d}" for i in range(start, min(total, start + GROUP))]
