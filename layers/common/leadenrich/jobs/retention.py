"""Retention: how long finished jobs, their items, unverified addresses and cached provider answers are kept
(each workspace's `WorkspaceSettings`; docs/privacy.md "Retention"), and the processor's hourly purge.

Two mechanisms, by store:
- DynamoDB deletes by itself: every such row carries the table's TTL attribute (`expires_at`), set when the
  row's retention starts (a job completing or being cancelled, an item finishing: `retention_epoch`), so
  there is nothing to sweep;
- SQLite and Supabase have no TTL: a `RetentionPurge` adapter deletes what is past its period
  (`sqlite.retention`, `supabase.retention`: the SQL function `purge_expired` of migration 0008).

`RetentionSchedule` runs the purges from the processor Lambda at most once per `interval` (an hour) per
process, in a bounded number of seconds taken from the run's budget; a purge that had more to delete than
its batch runs again at the next invocation instead of waiting the hour. Each run first reads every
workspace's settings once (`RetentionPolicy`): the purges delete by each workspace's periods, and the cache
cap (`CacheCap`) becomes the shortest `cache_retention_days` of any workspace, since one cached answer serves
them all. The cap applies to answers cached from then on; older ones expire by their TTL (at most the cap
that was in force when they were written).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from leadenrich.privacy.ports import WorkspaceSettings

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400
DEFAULT_INTERVAL = timedelta(hours=1)
DEFAULT_BATCH = 5_000  # rows of one kind a purge call deletes at most (one statement stays short)
DEFAULT_SECONDS = 10.0  # what one run may take of the processor's budget


def retention_epoch(start: datetime, days: int) -> int:
    """The TTL attribute of a row whose retention of `days` starts at `start`: epoch seconds, rounded up."""
    return math.ceil(start.timestamp()) + days * DAY_SECONDS


@dataclass(frozen=True)
class RetentionPolicy:
    """Every workspace's settings at one moment: the ones stored, the defaults for the rest."""

    workspaces: Mapping[str, WorkspaceSettings] = field(default_factory=dict)
    default: WorkspaceSettings = field(default_factory=WorkspaceSettings)

    def of(self, workspace_id: str) -> WorkspaceSettings:
        return self.workspaces.get(workspace_id, self.default)

    def cache_days(self) -> int:
        """The shared cache's cap: the shortest period any workspace asks for (the default's included)."""
        return min(s.cache_retention_days for s in (self.default, *self.workspaces.values()))


@dataclass(frozen=True)
class PurgeReport:
    """What one purge call deleted, by kind of row, and whether it stopped at its batch size."""

    deleted: dict[str, int] = field(default_factory=dict)
    more: bool = False


class RetentionPurge(Protocol):
    """Deletes a store's rows past their workspace's period, at most `batch` of each kind per call."""

    name: str

    async def purge(self, now: datetime, policy: RetentionPolicy, *, batch: int) -> PurgeReport: ...


class SettingsLister(Protocol):
    async def all(self) -> dict[str, WorkspaceSettings]: ...


class CacheCap:
    """The longest a provider answer may be cached, in days: set by `RetentionSchedule`, read by
    `CappedCache` at every write."""

    def __init__(self, days: int | None = None) -> None:
        self.days = WorkspaceSettings().cache_retention_days if days is None else days

    @property
    def seconds(self) -> float:
        return float(self.days * DAY_SECONDS)


class CachePort(Protocol):  # `engine.cache.CachePort`, restated: jobs/ keeps the engine out of the API Lambda
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None: ...


class CappedCache:
    """A cache whose entries never outlive the cap: `put`'s TTL is the engine's (14 days for a domain
    search, 30 for an address...) or the cap, whichever is shorter. Reads are the wrapped cache's."""

    def __init__(self, cache: CachePort, cap: CacheCap) -> None:
        self.cache = cache
        self.cap = cap

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self.cache.get(key)

    async def put(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        await self.cache.put(key, value, min(ttl_seconds, self.cap.seconds))


@dataclass
class RetentionRun:
    """What one run did: rows deleted by `purge name.kind`, and whether any purge has more to delete."""

    deleted: dict[str, int] = field(default_factory=dict)
    more: bool = False
    failed: list[str] = field(default_factory=list)


class RetentionSchedule:
    """Runs the purges at most once per `interval` (see the module docstring). One per process: the
    processor's, built by `leadenrich.runtime.retention()`."""

    def __init__(
        self,
        purges: Sequence[RetentionPurge],
        settings: SettingsLister,
        *,
        cache_cap: CacheCap | None = None,
        interval: timedelta = DEFAULT_INTERVAL,
        batch: int = DEFAULT_BATCH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.purges = list(purges)
        self.settings = settings
        self.cache_cap = cache_cap
        self.interval = interval
        self.batch = batch
        self._clock = clock
        self._next: datetime | None = None

    def due(self, now: datetime) -> bool:
        return self._next is None or now >= self._next

    async def run_if_due(self, now: datetime, *, seconds: float = DEFAULT_SECONDS) -> RetentionRun | None:
        """Run the purges if an interval has passed since the last complete run; None when not due. A purge
        that fails is logged (by type) and tried again at the next interval; the others still run."""
        if not self.due(now):
            return None
        self._next = now + self.interval  # also when reading the settings fails: no retry every minute
        policy = RetentionPolicy(await self.settings.all())
        if self.cache_cap is not None:
            self.cache_cap.days = policy.cache_days()
        run = RetentionRun()
        deadline = self._clock() + seconds
        for purge in self.purges:
            try:
                more = await self._drain(purge, now, policy, run, deadline)
            except Exception as exc:
                run.failed.append(purge.name)
                log.error("retention purge failed", extra={"purge": purge.name, "error": type(exc).__name__})
                continue
            run.more = run.more or more
        if run.more:
            self._next = now  # the backlog continues at the next invocation
        return run

    async def _drain(
        self,
        purge: RetentionPurge,
        now: datetime,
        policy: RetentionPolicy,
        run: RetentionRun,
        deadline: float,
    ) -> bool:
        """Batches until the purge has nothing more or the time is up; True when it stopped with more."""
        while True:
            report = await purge.purge(now, policy, batch=self.batch)
            for kind, count in report.deleted.items():
                key = f"{purge.name}.{kind}"
                run.deleted[key] = run.deleted.get(key, 0) + count
            if not report.more:
                return False
            if self._clock() >= deadline:
                return True


__all__ = [
    "DAY_SECONDS",
    "DEFAULT_BATCH",
    "DEFAULT_INTERVAL",
    "DEFAULT_SECONDS",
    "CacheCap",
    "CappedCache",
    "PurgeReport",
    "RetentionPolicy",
    "RetentionPurge",
    "RetentionRun",
    "RetentionSchedule",
    "SettingsLister",
    "retention_epoch",
]
