"""`resend_waiting` sends exactly the waiting items that had been sent before (the first window, and the
successors of every leader with an outcome), and reads no further than the first window while no item has
had one: a just-read upload of thousands of rows costs one page, not a listing of every item."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadenrich.engine.models import Lead
from leadenrich.jobs.control import resend_waiting
from leadenrich.jobs.models import CLAIMABLE, Item, ItemStatus, Job, JobOptions, JobStatus, Page, WorkMessage
from leadenrich.jobs.window import first_count, successors
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WINDOW = 50


class CountingStore(SqliteJobStore):
    """The SQLite store, counting the item pages read."""

    pages = 0

    async def list_items(self, *args: Any, **kwargs: Any) -> Page[Item]:
        self.pages += 1
        return await super().list_items(*args, **kwargs)


class RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, messages: Sequence[WorkMessage], *, delay_seconds: int = 0) -> int:
        self.sent += [m.item_id for m in messages]
        return len(messages)


async def stored_job(tmp_path: Path, items: list[Item]) -> tuple[CountingStore, Job]:
    store = CountingStore(Database(tmp_path / "jobs.sqlite3"))
    job = Job("ws", "job_1", JobStatus.PENDING, NOW, options=JobOptions(queue_window=WINDOW))
    return store, await store.create_job(job, items)


def item(index: int, status: ItemStatus = ItemStatus.QUEUED, sent_next: bool = False) -> Item:
    lead = Lead(domain=f"d{index}.example.com")
    return Item("ws", "job_1", f"{index:06d}", lead, status=status, sent_next=sent_next)


async def test_a_job_that_never_ran_is_resent_its_first_window_from_one_page(tmp_path: Path) -> None:
    store, job = await stored_job(tmp_path, [item(i) for i in range(5_000)])
    queue = RecordingQueue()
    assert await resend_waiting(store, queue, job, NOW) == WINDOW  # type: ignore[arg-type]
    assert queue.sent == [f"{i:06d}" for i in range(WINDOW)]
    assert store.pages == 1  # 1,000 items read of 5,000


@pytest.mark.parametrize("seed", range(8))
async def test_what_is_resent_is_what_had_been_sent_and_still_waits(tmp_path: Path, seed: int) -> None:
    """Leaders with an outcome anywhere in the job (the oracle is the window's own `successors`)."""
    rng = random.Random(seed)
    total = rng.randrange(1_500, 3_500)
    done = {ItemStatus.FOUND, ItemStatus.NOT_FOUND}
    sent = set(range(first_count(total, WINDOW)))
    items = []
    for i in range(total):
        # An item can have had an outcome only if it was sent; leaders with one sent their successors.
        had_outcome = i in sent and rng.random() < 0.7
        status = rng.choice(sorted(done)) if had_outcome and rng.random() < 0.8 else ItemStatus.QUEUED
        items.append(item(i, status, sent_next=had_outcome))
        if had_outcome:
            sent |= {int(s) for s in successors(f"{i:06d}", WINDOW, total)}
    store, job = await stored_job(tmp_path, items)
    queue = RecordingQueue()
    await resend_waiting(store, queue, job, NOW)  # type: ignore[arg-type]
    expected = sorted(f"{i:06d}" for i in sent if items[i].status in CLAIMABLE)
    assert sorted(queue.sent) == expected
    assert len(queue.sent) == len(set(queue.sent))
