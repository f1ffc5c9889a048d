"""What the store contracts share: a job and its items as the tests make them, the fixed clock."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from leadenrich.engine.models import Lead
from leadenrich.jobs.models import (
    Item,
    ItemStatus,
    Job,
    JobOptions,
    JobStatus,
)
from leadenrich.jobs.ports import CounterDelta, JobStore

WS = "ws1"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)


def new_job(
    job_id: str,
    n_items: int = 1,
    *,
    workspace: str = WS,
    created_at: datetime = NOW,
    tags: tuple[str, ...] = (),
    key: str | None = None,
    item_status: ItemStatus = ItemStatus.QUEUED,
) -> tuple[Job, list[Item]]:
    fingerprint = f"sha-of-{key}" if key is not None else None
    job = Job(
        workspace,
        job_id,
        JobStatus.PENDING,
        created_at,
        JobOptions(tags=tags),
        idempotency_key=key,
        request_fingerprint=fingerprint,
    )
    items = [
        Item(workspace, job_id, f"{i:06d}", Lead(domain=f"d{i}.example.com"), status=item_status)
        for i in range(n_items)
    ]
    return job, items


async def create(store: JobStore, job_id: str, n_items: int = 1, **kwargs: Any) -> Job:
    job, items = new_job(job_id, n_items, **kwargs)
    return await store.create_job(job, items)


async def claim(store: JobStore, job_id: str, item_id: str = "000000", token: str = "t1") -> Item:
    item = await store.claim_item(WS, job_id, item_id, token=token, lease_until=LEASE, now=NOW)
    assert item is not None
    return item


async def job_of(store: JobStore, job_id: str) -> Job:
    job = await store.get_job(WS, job_id)
    assert job is not None
    return job


async def item_of(store: JobStore, job_id: str, item_id: str = "000000") -> Item:
    item = await store.get_item(WS, job_id, item_id)
    assert item is not None
    return item


async def scheduled(
    store: JobStore, job_id: str, due_at: datetime, n_items: int = 1, *, workspace: str = WS
) -> Job:
    """A job created to start at `due_at`: pending, in the due index."""
    job, items = new_job(job_id, n_items, workspace=workspace)
    job = replace(job, options=replace(job.options, run_at=due_at), due_at=due_at)
    return await store.create_job(job, items)


async def due_ids(store: JobStore, now: datetime = NOW, limit: int = 10) -> list[tuple[str, str]]:
    return [(job.workspace_id, job.job_id) for job in await store.due_jobs(now, limit)]


def found(cost: float = 0.0) -> CounterDelta:
    return CounterDelta(found=1, created_emails=1, api_calls_perplexity=1, cost_perplexity_usd=cost)


async def all_items(store: JobStore, job_id: str, limit: int = 1000) -> list[Item]:
    items: list[Item] = []
    cursor: str | None = None
    while True:
        page = await store.list_items(WS, job_id, limit=limit, cursor=cursor)
        items += page.items
        cursor = page.cursor
        if cursor is None:
            return items


async def listed_job_ids(store: JobStore, limit: int, **filters: Any) -> list[str]:
    """The ids of every job `list_jobs` pages through, `limit` per page (no page holds more)."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_jobs(WS, limit=limit, cursor=cursor, **filters)
        assert len(page.items) <= limit
        ids += [j.job_id for j in page.items]
        cursor = page.cursor
        if cursor is None:
            return ids


def b64(value: object) -> str:
    return b64json(json.dumps(value))


def b64json(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def as_created(item: Item) -> Item:
    """The item without `updated_at`: the DynamoDB store leaves it unset until the first change, Supabase's
    database sets it from creation on (by trigger, on its own clock)."""
    return replace(item, updated_at=None)
