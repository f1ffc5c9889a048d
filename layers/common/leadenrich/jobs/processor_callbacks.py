"""The callbacks' share of each processor run, so that a busy queue cannot starve them.

Why: a drain with items waiting works until its deadline. When the callbacks only got what the items left
at the end, owed retries (an attempt needs its 5 s timeout and a second) and `job.progress` events (1.5 s)
never ran under a backlog: with 200 leads waiting no progress event went out at all, and a retry due after
30 s went out after 84 s, one due after 2 minutes after 6 (issue 13). So each drain gives them their own
time, whatever the backlog:

- Owed deliveries (retries of `job.completed`, and `job.cancelled` / `job.paused`, which
  `CallbackDispatcher.enqueue` leaves in the outbox due at once) run from the drain's first moment,
  concurrently with its items, until the callbacks' deadline: the outbox is swept at once (`retry_due`:
  every entry due, attempted together) and again every `RETRY_POLL_SECONDS` while the items run, so a
  retry due before or during a run goes out in it. This costs the items nothing: an attempt is a POST
  awaited on the same event loop.
- Progress events go out at the end, once the drain's items are done (their counters are final then), in
  the last `ProcessorSettings.callback_seconds` before the callbacks' deadline, which the items never use
  (their deadline is at least that much earlier whenever callbacks are wired): one `job.progress` for each
  job the drain advanced and did not complete, all at once, so a slow receiver holds no other back.

The callbacks' deadline is `END_SECONDS` before the budget's end (the budget's margin, if smaller): after
its POST a progress event writes nothing and a retry only its record, so they may use most of the margin
the items keep for their last writes, and the share costs the items only what it adds to that margin
(with the defaults, a 3 s share and a 3 s margin: the items stop at 26 s of 30 instead of 27).

A retry that falls due between two runs waits for the next run's first sweep: with one run a minute and a
30 s budget that is at most the 30 s gap (docs/webhooks.md, bench/callbacks_backlog.py). The share never
outlives the drain: `finish` stops the polling and waits for an attempt in flight, which its own timeout
bounds by the callback deadline; a drain that dies of a bug leaves the polling task to stop at that
deadline by itself. A callback failure is never an item's: it is logged by type, and the outbox retries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from leadenrich.deadline import Deadline
from leadenrich.jobs.models import JOB_PROGRESS, Job, JobStatus
from leadenrich.jobs.ports import JobStore

log = logging.getLogger(__name__)

RETRY_POLL_SECONDS = 5.0  # how often a run looks in the outbox again while its items run
END_SECONDS = 1.0  # the callbacks stop this long before the budget's end (or at its margin, if smaller)
RETRY_BATCH = 10  # outbox entries attempted at once; a full batch is followed by another straight away


class CompletionCallbacks(Protocol):
    """What the processor tells about jobs (`leadenrich.webhooks.outbound.CallbackDispatcher`)."""

    async def job_completed(self, job: Job, deadline: Deadline) -> None:
        """Called once per job, by the processor whose write completed it; must keep within `deadline`."""
        ...

    async def job_progressed(self, job: Job, deadline: Deadline) -> bool:
        """Called at the end of a drain for each job that had items finish in it and is still running;
        True when something was sent."""
        ...

    async def retry_due(self, deadline: Deadline, limit: int = 10) -> int:
        """Attempt up to `limit` owed deliveries that are due, within `deadline`; returns how many."""
        ...


class CallbackShare:
    """One drain's callbacks: `start` it when the drain starts, `finish` it when its items are done."""

    def __init__(
        self,
        callbacks: CompletionCallbacks | None,
        store: JobStore,
        budget: Deadline,
        *,
        margin_seconds: float,
        poll_seconds: float = RETRY_POLL_SECONDS,
    ) -> None:
        self.callbacks = callbacks
        self.store = store
        self.deadline = Deadline(budget.at - min(margin_seconds, END_SECONDS))  # the callbacks' own
        self._items_latest = budget.at - margin_seconds  # the margin keeps the items' last writes in
        self.poll_seconds = poll_seconds
        self._stop = asyncio.Event()
        self._retries: asyncio.Task[None] | None = None

    @classmethod
    def start(
        cls,
        callbacks: CompletionCallbacks | None,
        store: JobStore,
        budget: Deadline,
        *,
        margin_seconds: float,
        poll_seconds: float = RETRY_POLL_SECONDS,
    ) -> CallbackShare:
        """The share of a drain that must be over by `budget` less `margin_seconds` for its items' last
        writes, its retries already running (nothing at all without callbacks)."""
        share = cls(callbacks, store, budget, margin_seconds=margin_seconds, poll_seconds=poll_seconds)
        if callbacks is not None:
            share._retries = asyncio.create_task(share._retry_loop(callbacks))
        return share

    def items_deadline(self, reserve_seconds: float) -> Deadline:
        """The items' deadline: before the budget's margin, and at least `reserve_seconds` before the
        callbacks' own, for the progress events (no reserve without callbacks)."""
        if self.callbacks is None:
            return Deadline(self._items_latest)
        return Deadline(min(self._items_latest, self.deadline.at - reserve_seconds))

    async def finish(self, advanced: Mapping[tuple[str, str], Job], completed: Iterable[Job]) -> None:
        """Once the items are done: stop looking in the outbox, send the progress events of the jobs the
        drain advanced (`advanced`, keyed by workspace and job) but did not complete, and wait for a retry
        attempt still in flight."""
        self._stop.set()
        if self.callbacks is not None:
            await self._progress(self.callbacks, advanced, completed)
        if self._retries is not None:
            await self._retries

    async def _retry_loop(self, callbacks: CompletionCallbacks) -> None:
        while True:
            await self._sweep(callbacks)
            left = self.deadline.remaining()
            if self._stop.is_set() or left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=min(self.poll_seconds, left))
            if self._stop.is_set():
                return

    async def _sweep(self, callbacks: CompletionCallbacks) -> None:
        """Everything due now, a batch at a time (a full batch may mean more are due)."""
        try:
            while await callbacks.retry_due(self.deadline, RETRY_BATCH) >= RETRY_BATCH:
                pass
        except Exception as exc:
            log.error("callback retries failed", extra={"error": type(exc).__name__})

    async def _progress(
        self,
        callbacks: CompletionCallbacks,
        advanced: Mapping[tuple[str, str], Job],
        completed: Iterable[Job],
    ) -> None:
        """`job.progress` for the jobs advanced that asked for it, with their counters as stored now (read
        again: the drain's finishes are not in the copy read before them)."""
        done = {(j.workspace_id, j.job_id) for j in completed}
        wanted = [
            key
            for key, seen in sorted(advanced.items())
            if key not in done and seen.options.wants(JOB_PROGRESS)
        ]

        async def progress(workspace_id: str, job_id: str) -> None:
            try:
                job = await self.store.get_job(workspace_id, job_id)
                if job is not None and job.status is JobStatus.RUNNING:
                    await callbacks.job_progressed(job, self.deadline)
            except Exception as exc:
                log.error("progress callback failed", extra={"error": type(exc).__name__, "job": job_id})

        await asyncio.gather(*(progress(*key) for key in wanted))


__all__ = ["END_SECONDS", "RETRY_BATCH", "RETRY_POLL_SECONDS", "CallbackShare", "CompletionCallbacks"]
