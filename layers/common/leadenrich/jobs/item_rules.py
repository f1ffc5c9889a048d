"""Which items a store may take, change or refuse: the item state rules every `JobStore` applies.

The adapters turn these into their own conditional writes (a DynamoDB condition expression, an SQL
`WHERE`); what is decided before any write (a status that is not terminal, items of another job) is
decided here, with the messages the API shows (`field: reason`).

    claim     an item in CLAIMABLE, or running with a lease that expired before `now`; its job neither
              cancelled nor paused (`job_rules.HOLDS_ITEMS`)
    finish    running with the caller's lease token, to a TERMINAL status
    defer     running with the caller's lease token
    skip      an item in SKIPPABLE, or running with a lease that expired before `now`
    requeue   an item still in the TERMINAL status it was read in
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime

from leadenrich.jobs.models import CLAIMABLE, TERMINAL, Item, ItemStatus, Job
from leadenrich.jobs.ports import CounterDelta

SKIPPABLE = CLAIMABLE  # not started yet: a cancelled job's item is skipped instead of run
HELD = ItemStatus.RUNNING  # the status a lease holds an item in
COUNTED_FAILED = frozenset({ItemStatus.FAILED, ItemStatus.DEAD})  # what a job's `failed` counter counts


def check_items(job: Job, items: Sequence[Item], *, unique: bool = True) -> None:
    """ValueError unless every item is the job's (and, with `unique`, no item id is given twice)."""
    for item in items:
        if (item.workspace_id, item.job_id) != (job.workspace_id, job.job_id):
            raise ValueError(f"items: item {item.item_id} belongs to another job")
    if unique and len({item.item_id for item in items}) != len(items):
        raise ValueError("items: duplicate item ids")


def check_terminal(status: ItemStatus) -> None:
    if not status.terminal:
        raise ValueError(f"status: {status.value} is not terminal")


def check_requeueable(statuses: frozenset[ItemStatus]) -> None:
    if not statuses <= TERMINAL:
        raise ValueError("statuses: only terminal items can be requeued")


def job_exists(job_id: str) -> ValueError:
    return ValueError(f"job_id: job {job_id} exists")


def not_pending(job_id: str) -> ValueError:
    return ValueError(f"job_id: job {job_id} is no longer pending")


def with_total(job: Job, total: int) -> Job:
    """The job as stored: its total is the number of items it was created with."""
    return dataclasses.replace(job, counters=dataclasses.replace(job.counters, total=total))


def taken_back(counts: Mapping[ItemStatus, int]) -> CounterDelta:
    """What requeueing items (count by the status they left) takes off their job's counters."""
    return CounterDelta(
        processed=-sum(counts.values()),
        failed=-sum(n for status, n in counts.items() if status in COUNTED_FAILED),
        found=-counts.get(ItemStatus.FOUND, 0),
        risky=-counts.get(ItemStatus.RISKY, 0),
    )


def requeued(item: Item, now: datetime) -> Item:
    """The item as a requeue leaves it: queued afresh, no attempt, outcome or lease."""
    return dataclasses.replace(
        item,
        status=ItemStatus.QUEUED,
        attempts=0,
        reason=None,
        result=None,
        updated_at=now,
        lease_token=None,
        lease_until=None,
        next_attempt_at=None,
    )


__all__ = [
    "CLAIMABLE",
    "COUNTED_FAILED",
    "HELD",
    "SKIPPABLE",
    "TERMINAL",
    "check_items",
    "check_requeueable",
    "check_terminal",
    "job_exists",
    "not_pending",
    "requeued",
    "taken_back",
    "with_total",
]
