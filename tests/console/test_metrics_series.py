"""`GET /metrics` `last_hour_series`, the console's chart: 12 buckets of 5 whole minutes, oldest first, the
newest ending with the current minute, each asked of the store for its own minutes only (the stores count
whole minutes with both ends included, so overlapping windows would count a minute twice)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from enrich_tools.simulator import SHOWCASE_DOMAINS
from leadenrich.jobs.ports import Activity, QueueDepth
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import SERIES_BUCKET, SERIES_BUCKETS, JobService
from tests.support.backends import WS, Backend

NOW = datetime(2026, 3, 1, 12, 34, 56, 789, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class MinuteStore:
    """A job store's `activity` over per-minute counts, as every adapter keeps them: the windows asked are
    recorded; the other calls are never made by `metrics`."""

    def __init__(self, per_minute: dict[datetime, Activity]) -> None:
        self.per_minute = per_minute
        self.asked: list[tuple[datetime, datetime]] = []

    async def activity(self, workspace_id: str, *, since: datetime, now: datetime) -> Activity:
        self.asked.append((since, now))
        first, last = since.replace(second=0, microsecond=0), now.replace(second=0, microsecond=0)
        inside = [counts for minute, counts in self.per_minute.items() if first <= minute <= last]
        return Activity(
            processed=sum(c.processed for c in inside),
            found=sum(c.found for c in inside),
            failed=sum(c.failed for c in inside),
        )


class EmptyQueue:
    async def depth(self) -> QueueDepth:
        return QueueDepth(visible=0, in_flight=0, delayed=0, dead_letters=0)


def service(store: MinuteStore) -> JobService:
    queue: Any = EmptyQueue()
    return JobService(store, queue, clock=lambda: NOW)  # type: ignore[arg-type]  # only activity is called


async def test_the_series_is_twelve_adjacent_five_minute_buckets_ending_with_this_minute() -> None:
    store = MinuteStore({})
    metrics = await service(store).metrics("ws")
    series = metrics.last_hour_series
    this_minute = NOW.replace(second=0, microsecond=0)
    assert len(series) == SERIES_BUCKETS == 12 and timedelta(minutes=5) == SERIES_BUCKET
    assert [b.start for b in series] == [
        this_minute - 4 * MINUTE - SERIES_BUCKET * k for k in range(11, -1, -1)
    ]
    windows = sorted(store.asked[1:])  # the first read is the hour's totals
    assert windows == [(b.start, b.start + 4 * MINUTE) for b in series]
    for (_, end), (start, _) in pairwise(windows):
        assert start - end == MINUTE  # adjacent whole minutes: none skipped, none counted twice


async def test_each_finish_lands_in_the_bucket_of_its_minute_and_the_buckets_add_up() -> None:
    this_minute = NOW.replace(second=0, microsecond=0)
    store = MinuteStore(
        {
            this_minute: Activity(processed=3, found=2, failed=1),  # the newest bucket, ending now
            this_minute - 4 * MINUTE: Activity(processed=1, found=1),  # the newest bucket's first minute
            this_minute - 5 * MINUTE: Activity(processed=4, failed=4),  # the last minute of the one before
            this_minute - 59 * MINUTE: Activity(processed=2, found=1),  # the oldest bucket's first minute
            this_minute - 61 * MINUTE: Activity(processed=100),  # over an hour ago: in no bucket
        }
    )
    metrics = await service(store).metrics("ws")
    processed = [b.activity.processed for b in metrics.last_hour_series]
    assert processed == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4]
    newest = metrics.last_hour_series[-1].activity
    assert (newest.found, newest.failed, newest.success_rate) == (3, 1, 0.75)
    assert metrics.last_hour_series[-2].activity.success_rate == 0.0
    assert metrics.last_hour_series[1].activity.success_rate is None  # nothing ran: no made-up rate
    assert sum(processed) == 10 and metrics.last_hour.processed == 10


async def test_on_every_store_the_buckets_add_up_to_the_hours_totals(backend: Backend) -> None:
    """The stores' own `activity` (SQLite, DynamoDB, Supabase), read 12 times at once: a job's finishes
    land in the newest bucket, and nothing is counted twice."""
    service = backend.service()
    await service.create_job(WS, CreateJobRequest(domains=[*SHOWCASE_DOMAINS[:3], "gmail.com"]))
    await backend.processor().drain()
    metrics = await service.metrics(WS)
    series, hour = metrics.last_hour_series, metrics.last_hour
    assert hour.processed == 4 and hour.found == 3
    assert sum(b.activity.processed for b in series) == hour.processed
    assert sum(b.activity.found for b in series) == hour.found
    assert sum(b.activity.failed for b in series) == hour.failed == 0
    newest = series[-1]
    assert newest.start <= backend.now() < newest.start + SERIES_BUCKET
    assert newest.activity.processed >= 1  # finished a moment ago: the newest bucket (or the minute before)
    other = await service.metrics("another-workspace")
    assert all(b.activity.processed == 0 for b in other.last_hour_series)  # per workspace
