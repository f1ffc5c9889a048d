"""The `JobStore` port's entry points, written once for every adapter: the checks made before any write.

An adapter (DynamoDB, Supabase, SQLite) subclasses `JobStoreBase` and implements only the storage steps
(`_create`, `_claim`, `_finish`, `_pause`, ...), each handed what the port's call asked for after the rules
of `leadenrich.jobs.item_rules` and `job_rules` passed: items that belong to their job, a terminal status
to finish with, a lease token to hold the item by, statuses that may be requeued, a pause reason, a page
size within `MAX_LIMIT`. So the three stores cannot drift apart on what they refuse, and with what message.

The listings carry their own keyset paging (`after`, `page`) for the stores that list by keyset (SQLite,
Supabase); DynamoDB resumes from its own start keys and uses only their fields.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadenrich.jobs import item_rules, job_rules
from leadenrich.jobs.encoding import (
    after_item,
    after_job,
    check_limit,
    decode_cursor,
    encode_cursor,
    items_cursor,
    jobs_cursor,
)
from leadenrich.jobs.models import Item, ItemStatus, Job, JobOptions, JobStatus, Page, ReviewState
from leadenrich.jobs.ports import CounterDelta
from leadenrich.privacy import review

REVIEW_TRIES = 5  # compare-and-set rounds of one review when other reviews of the item keep landing first


@dataclass(frozen=True)
class ItemRef:
    workspace_id: str
    job_id: str
    item_id: str

    @classmethod
    def of(cls, item: Item) -> ItemRef:
        return cls(item.workspace_id, item.job_id, item.item_id)


@dataclass(frozen=True)
class JobListing:
    """A `list_jobs` call: the workspace's jobs newest first, filtered, from `cursor` on."""

    workspace_id: str
    status: JobStatus | None
    tag: str | None
    limit: int
    cursor: str | None

    def after(self) -> tuple[str, str] | None:
        """(created_at as stored, job id) of the previous page's last job; BadCursor for a foreign one."""
        return after_job(self.cursor, self.workspace_id) if self.cursor is not None else None

    def page(self, found: Sequence[Job]) -> Page[Job]:
        """`found` holds up to `limit + 1` jobs: the one past the limit only says another page follows."""
        jobs = list(found[: self.limit])
        more = len(found) > self.limit
        last = jobs[-1] if more else None
        cursor = jobs_cursor(self.workspace_id, last.created_at, last.job_id) if last else None
        return Page(items=jobs, cursor=cursor)


@dataclass(frozen=True)
class ItemListing:
    """A `list_items` call: a job's items in input order (ids are zero-padded), from `cursor` on."""

    workspace_id: str
    job_id: str
    status: ItemStatus | None
    limit: int
    cursor: str | None

    def after(self) -> str | None:
        """The previous page's last item id; BadCursor for a cursor of another listing."""
        return after_item(self.cursor, self.workspace_id, self.job_id) if self.cursor is not None else None

    def page(self, found: Sequence[Item]) -> Page[Item]:
        """`found` holds up to `limit + 1` items: the one past the limit only says another page follows."""
        items = list(found[: self.limit])
        more = len(found) > self.limit
        cursor = items_cursor(self.workspace_id, self.job_id, items[-1].item_id) if more else None
        return Page(items=items, cursor=cursor)


def review_cursor(workspace_id: str, job_id: str, item_id: str) -> str:
    """Where a listing of the workspace's review queue (by job id, then item id) stopped: its last item."""
    return encode_cursor({"list": "review", "ws": workspace_id, "job": job_id, "id": item_id})


@dataclass(frozen=True)
class ReviewListing:
    """A `review_queue` call: the workspace's items with addresses pending review, from `cursor` on."""

    workspace_id: str
    limit: int
    cursor: str | None

    def after(self) -> tuple[str, str] | None:
        """(job id, item id) of the previous page's last item; BadCursor for another listing's cursor."""
        if self.cursor is None:
            return None
        at = decode_cursor(self.cursor, {"list": "review", "ws": self.workspace_id}, ("job", "id"))
        return at["job"], at["id"]

    def page(self, found: Sequence[Item]) -> Page[Item]:
        """`found` holds up to `limit + 1` items: the one past the limit only says another page follows."""
        items = list(found[: self.limit])
        last = items[-1] if len(found) > self.limit else None
        cursor = review_cursor(self.workspace_id, last.job_id, last.item_id) if last else None
        return Page(items=items, cursor=cursor)


@dataclass(frozen=True)
class Finish:
    """A terminal outcome (`JobStore.finish_item`), its status checked terminal."""

    status: ItemStatus
    reason: str | None
    result: dict[str, object] | None
    delta: CounterDelta
    now: datetime


@dataclass(frozen=True)
class Deferral:
    """A hand-back (`JobStore.defer_item`)."""

    reason: str
    next_attempt_at: datetime
    charge_attempt: bool
    now: datetime
    spent: CounterDelta | None


@dataclass(frozen=True)
class JobUpdate:
    """An `update_job` call: the options and due time to store, and the due time the job must still have
    (None: no due time set) for the write to happen."""

    options: JobOptions
    due_at: datetime | None
    expected_due_at: datetime | None
    now: datetime


def page_start(items: Sequence[Item]) -> int:
    """The index of a page's first item: item ids are zero-padded sequence numbers (`Item.item_id`), and
    a page is appended where the job's total stands. ValueError naming `items` for another id."""
    first = items[0].item_id
    if not first.isascii() or not first.isdigit():
        raise ValueError(f"items: item id {first!r} is not a sequence number")
    return int(first)


class PageStored(ValueError):
    """`append_items` refused a page whose first item the job's total counts already: it was appended
    before (by a loader that died before recording its progress, or by another loader), and counted once."""


def append_refused(stored: Job | None, job_id: str, first: int) -> ValueError:
    """Why a page starting at item `first` was refused, from the job as read after: it is no longer pending
    (or unknown), its total counts the page already (`PageStored`), or the page is past its total."""
    if stored is None or stored.status is not JobStatus.PENDING:
        return item_rules.not_pending(job_id)
    total = stored.counters.total
    if total > first:
        return PageStored(f"items: an item id of job {job_id} is stored already (it holds {total})")
    return ValueError(
        f"items: the page starts at item {first}, job {job_id} holds {total}: pages go in order"
    )


class JobStoreBase(ABC):
    """The port's guarded calls; the port's docstrings (`leadenrich.jobs.ports`) say what each does."""

    async def create_job(self, job: Job, items: Sequence[Item]) -> Job:
        """The stored total is the number of items given. Raises IdempotencyConflict with the job that owns
        the key, and ValueError when the job id exists or an item belongs elsewhere or repeats."""
        item_rules.check_items(job, items)
        return await self._create(item_rules.with_total(job, len(items)), items)

    async def append_items(self, job: Job, items: Sequence[Item]) -> None:
        """More items of a pending job (`ItemAppender`); ValueError when an item belongs elsewhere or is
        stored already, the page does not start at the job's total, or the job is no longer pending."""
        item_rules.check_items(job, items, unique=False)
        if items:
            page_start(items)
            await self._append(job, items)

    async def list_jobs(
        self,
        workspace_id: str,
        *,
        status: JobStatus | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        check_limit(limit)
        return await self._list_jobs(JobListing(workspace_id, status, tag, limit, cursor))

    async def list_items(
        self,
        workspace_id: str,
        job_id: str,
        *,
        status: ItemStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Item]:
        check_limit(limit)
        return await self._list_items(ItemListing(workspace_id, job_id, status, limit, cursor))

    async def claim_item(
        self,
        workspace_id: str,
        job_id: str,
        item_id: str,
        *,
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> Item | None:
        return await self._claim(ItemRef(workspace_id, job_id, item_id), token, lease_until, now)

    async def finish_item(
        self,
        item: Item,
        status: ItemStatus,
        *,
        reason: str | None,
        result: dict[str, object] | None,
        delta: CounterDelta,
        now: datetime,
    ) -> bool:
        item_rules.check_terminal(status)
        if item.lease_token is None:
            return False
        return await self._finish(item, item.lease_token, Finish(status, reason, result, delta, now))

    async def defer_item(
        self,
        item: Item,
        *,
        reason: str,
        next_attempt_at: datetime,
        charge_attempt: bool,
        now: datetime,
        spent: CounterDelta | None = None,
    ) -> bool:
        if item.lease_token is None:
            return False
        deferral = Deferral(reason, next_attempt_at, charge_attempt, now, spent)
        return await self._defer(item, item.lease_token, deferral)

    async def skip_item(
        self, workspace_id: str, job_id: str, item_id: str, *, reason: str, now: datetime
    ) -> bool:
        return await self._skip(ItemRef(workspace_id, job_id, item_id), reason, now)

    async def requeue_items(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        item_rules.check_requeueable(statuses)
        if not statuses:
            return []
        return await self._requeue(workspace_id, job_id, statuses, now)

    async def pause_job(self, workspace_id: str, job_id: str, *, reason: str, now: datetime) -> Job | None:
        """ValueError naming `reason` when it is empty or too long (`job_rules.check_reason`)."""
        job_rules.check_reason(reason)
        return await self._pause(workspace_id, job_id, reason)

    async def resume_job(self, workspace_id: str, job_id: str, *, now: datetime) -> Job | None:
        return await self._resume(workspace_id, job_id)

    async def fail_job(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        return await self._fail(workspace_id, job_id, now)

    async def update_job(
        self,
        workspace_id: str,
        job_id: str,
        *,
        options: JobOptions,
        due_at: datetime | None,
        expected_due_at: datetime | None,
        now: datetime,
    ) -> Job | None:
        return await self._update(workspace_id, job_id, JobUpdate(options, due_at, expected_due_at, now))

    async def due_jobs(self, now: datetime, limit: int = 10) -> list[Job]:
        check_limit(limit)
        return await self._due(now, limit)

    async def review_address(
        self,
        workspace_id: str,
        job_id: str,
        item_id: str,
        *,
        index: int,
        email: str,
        decision: ReviewState,
        now: datetime,
    ) -> Item | None:
        """Read, decide (`privacy.review.decided`), compare-and-set; a lost set is retried on a fresh read
        (another address of the item was decided meanwhile), a decided or missing address is None."""
        ref = ItemRef(workspace_id, job_id, item_id)
        for _ in range(REVIEW_TRIES):
            item = await self.get_item(workspace_id, job_id, item_id)
            changed = review.decided(item.result if item else None, index, email, decision)
            if item is None or item.result is None or changed is None:
                return None
            if await self._replace_result(ref, item.result, changed, now):
                return dataclasses.replace(item, result=changed, updated_at=now)
        return None

    async def review_queue(
        self, workspace_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Item]:
        check_limit(limit)
        return await self._review_queue(ReviewListing(workspace_id, limit, cursor))

    async def release_due(self, workspace_id: str, job_id: str, due_at: datetime) -> bool:
        return await self._release_due(workspace_id, job_id, due_at)

    # --- the storage steps ----------------------------------------------------------------------------------

    @abstractmethod
    async def get_item(self, workspace_id: str, job_id: str, item_id: str) -> Item | None:
        """The port's own read (a strongly consistent one where the store has a choice)."""

    @abstractmethod
    async def _create(self, job: Job, items: Sequence[Item]) -> Job:
        """Store the job (its total set) and its items; nothing when the idempotency key is taken."""

    @abstractmethod
    async def _append(self, job: Job, items: Sequence[Item]) -> None:
        """Store a non-empty page of the job's items and add their count to its total, while pending and
        only while that total is the page's first index (`page_start`): a page appended twice (a loader
        that died before recording its progress, two loaders) is refused, never counted twice, and so is a
        page past the total (`append_refused` says which)."""

    @abstractmethod
    async def _list_jobs(self, listing: JobListing) -> Page[Job]: ...

    @abstractmethod
    async def _list_items(self, listing: ItemListing) -> Page[Item]: ...

    @abstractmethod
    async def _claim(self, ref: ItemRef, token: str, lease_until: datetime, now: datetime) -> Item | None:
        """The conditional claim (item_rules: claim)."""

    @abstractmethod
    async def _finish(self, item: Item, token: str, finish: Finish) -> bool:
        """The conditional finish with its counters and activity, in one transaction."""

    @abstractmethod
    async def _defer(self, item: Item, token: str, deferral: Deferral) -> bool:
        """The conditional hand-back, with what the attempt spent in the same transaction."""

    @abstractmethod
    async def _skip(self, ref: ItemRef, reason: str, now: datetime) -> bool:
        """The conditional skip (item_rules: skip), counted processed once."""

    @abstractmethod
    async def _requeue(
        self, workspace_id: str, job_id: str, statuses: frozenset[ItemStatus], now: datetime
    ) -> list[Item]:
        """Items still in `statuses` (terminal, not empty) back to queued, their counts taken back."""

    @abstractmethod
    async def _pause(self, workspace_id: str, job_id: str, reason: str) -> Job | None:
        """The conditional pause (job_rules: pause); the paused job only to the caller whose write did it."""

    @abstractmethod
    async def _resume(self, workspace_id: str, job_id: str) -> Job | None:
        """The conditional resume (job_rules: resume, `resumed_status`), its reason cleared."""

    @abstractmethod
    async def _fail(self, workspace_id: str, job_id: str, now: datetime) -> Job | None:
        """The conditional failure (job_rules: fail): `completed_at` now, the due time (and its index
        entry) cleared; the failed job only to the caller whose write did it."""

    @abstractmethod
    async def _update(self, workspace_id: str, job_id: str, update: JobUpdate) -> Job | None:
        """The conditional replacement of options and due time (job_rules: update); the job as stored."""

    @abstractmethod
    async def _due(self, now: datetime, limit: int) -> list[Job]:
        """At most `limit` jobs of any workspace with `due_at <= now`, earliest first, through the due
        index (never a scan of every job)."""

    @abstractmethod
    async def _release_due(self, workspace_id: str, job_id: str, due_at: datetime) -> bool:
        """Clear the due time only while it is still `due_at` (the index entry goes with it)."""

    @abstractmethod
    async def _replace_result(
        self, ref: ItemRef, expected: dict[str, Any], result: dict[str, Any], now: datetime
    ) -> bool:
        """Store `result` as the item's result (and `now` as its update time) only while its stored result
        is still `expected`; the item's entry in the review queue's index follows `result`'s
        `review_pending` (`privacy.review.pending_count`). False when the result changed meanwhile."""

    @abstractmethod
    async def _review_queue(self, listing: ReviewListing) -> Page[Item]:
        """Up to `limit` of the workspace's items whose result has `review_pending` > 0, after `after()`, by
        (job id, item id), through the index of such items."""


__all__ = [
    "REVIEW_TRIES",
    "Deferral",
    "Finish",
    "ItemListing",
    "ItemRef",
    "JobListing",
    "JobStoreBase",
    "JobUpdate",
    "PageStored",
    "ReviewListing",
    "append_refused",
    "page_start",
    "review_cursor",
]
