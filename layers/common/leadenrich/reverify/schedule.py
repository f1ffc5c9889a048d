"""The re-verification sweep's place in the processor Lambda (docs/reverification.md "When it runs"): beside
the hourly retention purge, within a small share of a run's budget.

Why hourly checks for a daily job: the sweep itself makes at most one job a UTC day per workspace (its
"ran today" check and the job's idempotency key are in the stores, so every processor and every process
agree), but each run also reconciles finished sweep jobs. Looking once an hour per process keeps that
within an hour of a job finishing and costs one listing of the settings and one job query per budgeted
workspace an hour.

Which workspaces: those whose stored settings have `reverify_monthly_credits > 0` (the default is 0, so
only a workspace that set a budget has a row that can say so), listed with the settings adapters' `all()`:
one Query of the settings partition on DynamoDB (no Scan: every settings row shares one partition key),
one SELECT on SQLite. The list is read once a period; a workspace not reached before the share's time is
up is taken first at the next invocation, and a workspace whose sweep fails or outlasts the time left is
logged (by type) and tried again the next period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.reverify.service import ReverifySweep, SweepReport

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = timedelta(hours=1)


class SettingsLister(Protocol):
    async def all(self) -> dict[str, WorkspaceSettings]: ...


def budgeted(settings: Mapping[str, WorkspaceSettings]) -> list[tuple[str, WorkspaceSettings]]:
    """The workspaces the sweep is on for (a budget and a period), in id order."""
    return [
        (workspace, s)
        for workspace, s in sorted(settings.items())
        if s.reverify_monthly_credits > 0 and s.reverify_after_days > 0
    ]


@dataclass
class ScheduleRun:
    """What one due run did: each workspace's report, the workspaces that failed, how many wait."""

    reports: list[SweepReport] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    left: int = 0


class ReverifySchedule:
    """See the module docstring. One per process (`leadenrich.runtime_reverify.reverify_schedule`);
    `sweep` builds the sweep over the runtime's current adapters."""

    def __init__(
        self,
        sweep: Callable[[], ReverifySweep],
        settings: SettingsLister,
        *,
        interval: timedelta = DEFAULT_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sweep = sweep
        self.settings = settings
        self.interval = interval
        self.clock = clock
        self._timer = timer
        self._next: datetime | None = None
        self._pending: list[tuple[str, WorkspaceSettings]] = []

    def due(self, now: datetime) -> bool:
        return self._next is None or now >= self._next

    async def run_if_due(self, *, seconds: float) -> ScheduleRun | None:
        """Sweep the budgeted workspaces if due, within `seconds`; None when not due."""
        now = self.clock()
        if not self.due(now):
            return None
        self._next = now + self.interval  # also when listing fails: no retry every minute
        if not self._pending:
            self._pending = budgeted(await self.settings.all())
        run = ScheduleRun()
        deadline = self._timer() + seconds
        sweep = self.sweep() if self._pending else None
        while self._pending and sweep is not None:
            left = deadline - self._timer()
            if left <= 0:
                break
            workspace, settings = self._pending.pop(0)
            try:
                run.reports.append(await asyncio.wait_for(sweep.run(workspace, settings), timeout=left))
            except Exception as exc:  # TimeoutError included: the next period tries again
                run.failed.append(workspace)
                log.error(
                    "reverify sweep failed", extra={"workspace_id": workspace, "error": type(exc).__name__}
                )
        run.left = len(self._pending)
        if self._pending:
            self._next = now  # the rest at the next invocation
        return run


__all__ = ["DEFAULT_INTERVAL", "ReverifySchedule", "ScheduleRun", "SettingsLister", "budgeted"]
