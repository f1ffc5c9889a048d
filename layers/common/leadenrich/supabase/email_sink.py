"""Supabase as the email sink: the addresses an item found, upserted into `emails` in batches.

One request (`upsert_emails`, migration 0003) writes up to 500 rows of any number of leads in one
transaction: upsert on (lead_id, email), one primary per lead (the old primary demoted first when the best
address changed), unchanged rows left alone. The processor writes an item's addresses before it commits
the item's result, so a crash in between retries the item and the upsert makes the second write a no-op.

Group commit: the processor finishes items concurrently, each saving its own few addresses. A save that
arrives while a request is in flight waits for it and then goes out with every other save that arrived
meanwhile, in one request: the first save pays no delay, and under load many items share a request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from leadenrich.engine.models import FoundEmail
from leadenrich.jobs.ports import EmailsSaved, EmailWrite
from leadenrich.supabase.rpc import PAGE_ROWS, Connect, call, object_of


def email_row(
    workspace_id: str,
    lead_id: str,
    email: FoundEmail,
    lawful_basis: str | None = None,
    review: str | None = None,
) -> dict[str, Any]:
    """An `emails` row from the engine's FoundEmail (method, person and position stay in the job item), with
    the lawful basis of the job that found it and, after a review, `approved` (0009: addresses pending
    review are never written, `privacy.review`)."""
    return {
        "workspace_id": workspace_id,
        "lead_id": lead_id,
        "email": email.email,
        "source": email.source.value,
        "confidence_score": max(0, min(100, int(email.confidence_score))),
        "email_type": email.email_type.value,
        "hunter_status": email.hunter_status.value,
        "status": email.status.value,
        "verified_at": email.verified_at.isoformat() if email.verified_at else None,
        "deliverability": email.deliverability.value,
        "contact": email.contact.value,
        "lawful_basis": lawful_basis,
        "review": review,
    }


def batches(writes: Sequence[EmailWrite], max_rows: int) -> list[list[dict[str, Any]]]:
    """Rows in requests of at most `max_rows`, never splitting one write: a lead's new primary and the
    demotion of its old one happen in one transaction."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for write in writes:
        review = write.review.value if write.review is not None else None
        rows = [
            email_row(write.workspace_id, write.lead_id, e, write.lawful_basis, review) for e in write.emails
        ]
        if current and len(current) + len(rows) > max_rows:
            out.append(current)
            current = []
        current += rows
    if current:
        out.append(current)
    return out


@dataclass
class _Waiting:
    writes: Sequence[EmailWrite]
    done: asyncio.Future[EmailsSaved]


@dataclass
class _Commit:
    """One event loop's queue of saves and its flusher (the Lambda runs one loop per invocation)."""

    loop: asyncio.AbstractEventLoop
    waiting: list[_Waiting] = field(default_factory=list)
    flusher: asyncio.Task[None] | None = None


class SupabaseEmailSink:
    """`EmailSink` over `upsert_emails`; `connect` gives the loop's client (rpc.connect_with)."""

    def __init__(self, connect: Connect, batch_rows: int = PAGE_ROWS) -> None:
        if not 1 <= batch_rows <= 1000:
            raise ValueError("batch_rows: between 1 and 1000 (upsert_emails takes at most 1000)")
        self._connect = connect
        self.batch_rows = batch_rows
        self._commit: _Commit | None = None

    async def save(self, writes: Sequence[EmailWrite]) -> EmailsSaved:
        """Returns the counts of the request(s) that carried these writes (shared with the saves that
        went in the same requests). Raises LeadStoreError when a request failed."""
        if not any(write.emails for write in writes):
            return EmailsSaved()
        loop = asyncio.get_running_loop()
        commit = self._commit
        if commit is None or commit.loop is not loop:
            commit = self._commit = _Commit(loop)
        waiting = _Waiting(writes, loop.create_future())
        commit.waiting.append(waiting)
        if commit.flusher is None or commit.flusher.done():
            commit.flusher = loop.create_task(self._flush(commit))
        return await waiting.done

    async def _flush(self, commit: _Commit) -> None:
        while commit.waiting:
            group: list[_Waiting] = []
            rows = 0
            while commit.waiting and (not group or rows + _rows(commit.waiting[0]) <= self.batch_rows):
                taken = commit.waiting.pop(0)
                group.append(taken)
                rows += _rows(taken)
            try:
                saved = await self.write([w for waiting in group for w in waiting.writes])
            except Exception as exc:
                for waiting in group:
                    if not waiting.done.done():
                        waiting.done.set_exception(exc)
                continue
            for waiting in group:
                if not waiting.done.done():
                    waiting.done.set_result(saved)

    async def write(self, writes: Sequence[EmailWrite]) -> EmailsSaved:
        """The writes now, in as few requests as `batch_rows` allows (no group commit)."""
        total = EmailsSaved()
        for rows in batches(writes, self.batch_rows):
            answer = object_of(await call(self._connect, "upsert_emails", {"p_rows": rows}), "upsert_emails")
            total = EmailsSaved(
                inserted=total.inserted + int(answer["inserted"]),
                updated=total.updated + int(answer["updated"]),
                unchanged=total.unchanged + int(answer["unchanged"]),
                skipped=total.skipped + int(answer["skipped"]),
                requests=total.requests + 1,
            )
        return total


def _rows(waiting: _Waiting) -> int:
    return sum(len(write.emails) for write in waiting.writes)
