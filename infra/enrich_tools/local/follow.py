"""Following jobs while they run: each item reported once, as soon as it reaches a terminal status.

`GET /jobs/{id}/items` lists a job's items in input order, a page at a time. Items finish roughly in
input order (a job enters the queue a window at a time), so each job keeps a frontier: the cursor of the
first page that still has an item not yet reported. A poll reads from the frontier on, and stops as soon
as it has seen as many terminal items as the job's `processed` counter says exist, so a poll costs a page
or two, however long the job, and nothing when no item finished since the last one. A straggler (an
item deferred for minutes) holds the frontier back and makes polls read up to the furthest finished item:
more pages, never a missed item.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from leadenrich.jobs.models import TERMINAL

TERMINAL_ITEM_STATUSES = frozenset(status.value for status in TERMINAL)
FINAL_JOB_STATUSES = frozenset({"completed", "failed", "cancelled"})
PAGE_SIZE = 200  # a poll reads a page or two: ~a second of finished leads at tens a second


class ItemPages(Protocol):
    def list_items(
        self, job_id: str, *, limit: int, cursor: str | None = None, status: str | None = None
    ) -> dict[str, Any]: ...


@dataclass
class JobFrontier:
    """What has been reported of one job's items."""

    job_id: str
    page_cursor: str | None = None  # the page holding the first unreported item (None: the first page)
    reported: set[str] = field(default_factory=set)

    def new_outcomes(
        self, client: ItemPages, processed: int, page_size: int = PAGE_SIZE
    ) -> list[dict[str, Any]]:
        """The items that became terminal since the last call, in input order; `processed` is the job's
        counter as just read (more items may have finished since: they are reported too)."""
        fresh: list[dict[str, Any]] = []
        if len(self.reported) >= processed:
            return fresh
        cursor = self.page_cursor
        advancing = True  # every page so far was complete: the frontier may move past it
        while True:
            page = client.list_items(self.job_id, limit=page_size, cursor=cursor)
            complete = True
            for item in page["items"]:
                if item["status"] not in TERMINAL_ITEM_STATUSES:
                    complete = False
                elif item["item_id"] not in self.reported:
                    self.reported.add(item["item_id"])
                    fresh.append(item)
            following = page.get("cursor")
            if advancing and complete and following:
                self.page_cursor = following
            else:
                advancing = False
            if not following or len(self.reported) >= processed:
                return fresh
            cursor = following


def all_items(client: ItemPages, job_id: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Every item of a job in input order, a page in memory at a time."""
    cursor: str | None = None
    while True:
        page = client.list_items(job_id, limit=page_size, cursor=cursor)
        yield from page["items"]
        cursor = page.get("cursor")
        if not cursor:
            return


__all__ = ["FINAL_JOB_STATUSES", "TERMINAL_ITEM_STATUSES", "ItemPages", "JobFrontier", "all_items"]
