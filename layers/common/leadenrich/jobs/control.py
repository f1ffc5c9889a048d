"""Job control: pause, resume, reschedule, re-prioritise, bulk actions, and releasing scheduled jobs.

A paused job's messages are not kept in the queue: the processor deletes each one it receives for a paused
job and leaves the item as it was (queued or deferred), so nothing waits in SQS for days and nothing is
charged an attempt. What brings the items back is `resend_waiting`, the one mechanism behind resuming,
releasing a scheduled job, cancelling a paused job (its items must be skipped, one message each) and moving
a job to another priority band: it sends a message for every item of the job that is waiting and had been
sent to the queue before, in the job's current band.

Which items had been sent follows from the queue window (`leadenrich.jobs.window`): the first `window`
items at release, and the successors of every leader whose first outcome is written (`sent_next`). The
others are still to be sent by their leaders, as for any running job. A duplicate message (an item whose
message was still in the queue) is harmless: claims are conditional.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from leadenrich.jobs.models import CLAIMABLE, ItemStatus, Job, JobStatus, WorkMessage
from leadenrich.jobs.ports import MAX_BATCH, MAX_DELAY_SECONDS, JobStore, WorkQueue
from leadenrich.jobs.window import GROUP, first_count

_PAGE = 1000  # items read per page while resending (the stores' MAX_LIMIT)


@dataclass(frozen=True)
class Released:
    """What one processor run did with the due index."""

    jobs: int = 0
    messages: int = 0


def _leader(index: int, window: int) -> int:
    return GROUP * ((index - window) // GROUP)


async def resend_waiting(store: JobStore, queue: WorkQueue, job: Job, now: datetime) -> int:
    """Send a message, in the job's band, for each of its items that waits for one (see the module
    docstring); a deferred item's message is delayed until its next attempt (at most SQS's 15 minutes).
    Reads the job's items a page at a time, and no further than the first window while no item has had an
    outcome: an item after it is sent only by a leader with one, so a job that never ran (an uploaded file
    of 100,000 rows just read) costs a page, not a listing of every item. Returns how many were sent."""
    window = job.options.queue_window
    released = first_count(job.counters.total, window)
    sent_leaders: set[int] = set()
    any_outcome = False  # an item seen so far has sent its successors (`Item.sent_next`)
    batch: list[tuple[WorkMessage, int]] = []
    sent = 0
    cursor: str | None = None
    while True:
        page = await store.list_items(job.workspace_id, job.job_id, limit=_PAGE, cursor=cursor)
        for item in page.items:
            index = int(item.item_id)
            any_outcome = any_outcome or item.sent_next
            if item.sent_next and window is not None and index % GROUP == 0:
                sent_leaders.add(index)
            was_sent = window is None or index < released or _leader(index, window) in sent_leaders
            # Running with a lapsed lease: its processor died, and its message may have been deleted.
            lapsed = item.status is ItemStatus.RUNNING and (item.lease_until or now) <= now
            if not was_sent or not (item.status in CLAIMABLE or lapsed):
                continue
            delay = 0
            if item.status is ItemStatus.DEFERRED and item.next_attempt_at is not None:
                wait = (item.next_attempt_at - now).total_seconds()
                delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(wait)))
            batch.append((WorkMessage.for_item(job, item.item_id), delay))
            if len(batch) >= MAX_BATCH * 10:
                sent += await _send(queue, batch)
                batch = []
        cursor = page.cursor
        past_window = bool(page.items) and int(page.items[-1].item_id) >= released - 1
        if cursor is None or (window is not None and past_window and not any_outcome):
            break
    return sent + await _send(queue, batch)


async def _send(queue: WorkQueue, batch: Sequence[tuple[WorkMessage, int]]) -> int:
    """One send per delay (most messages have none): the queue's batches of ten are its own business."""
    by_delay: dict[int, list[WorkMessage]] = {}
    for message, delay in batch:
        by_delay.setdefault(delay, []).append(message)
    for delay, messages in by_delay.items():
        await queue.send(messages, delay_seconds=delay)
    return len(batch)


async def release_due_jobs(
    store: JobStore,
    queue: WorkQueue,
    now: datetime,
    limit: int = 10,
    load: Callable[[Job], Awaitable[Job | None]] | None = None,
) -> Released:
    """Send the first items of every scheduled job whose time has come, then clear its due time. Sent
    first: a crash in between sends them again (duplicates are harmless), never not at all; two processors
    doing this at once both send, and one clears. A job whose uploaded file is still being read goes to
    `load` instead (`leadenrich.uploads.loader`), which answers the job when it is to be released now."""
    jobs = messages = 0
    for due in await store.due_jobs(now, limit):
        upload, job = due.options.upload, due
        if upload is not None and upload.state != "loaded" and due.status is not JobStatus.CANCELLED:
            if load is None or (loaded := await load(due)) is None:
                continue  # still being read (or no object store here to read it)
            job = loaded
        if job.due_at is None:
            continue
        messages += await resend_waiting(store, queue, job, now)
        if await store.release_due(job.workspace_id, job.job_id, job.due_at):
            jobs += 1
    return Released(jobs=jobs, messages=messages)


__all__ = ["Released", "release_due_jobs", "resend_waiting"]
