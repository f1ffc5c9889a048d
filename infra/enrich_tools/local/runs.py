"""A list of leads through the jobs API and back: submit, follow with a progress line while results are
streamed out, then one record per input row in input order.

Used by `enrich run` (against the embedded stack) and `enrich jobs create --wait` (against any API), so
both report the same way.

Resuming: `submit` sends each job with an idempotency key made from the leads themselves (`run_key`), so
sending the same list again to the same API returns the jobs made the first time, finished items and
all, instead of new ones: re-running `enrich run` on the same state continues where it stopped and pays
for nothing twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from enrich_tools.local.client import ApiClient, ApiError
from enrich_tools.local.follow import FINAL_JOB_STATUSES, JobFrontier, all_items
from enrich_tools.local.preflight import switched_off
from enrich_tools.local.progress import Progress, Tally
from enrich_tools.local.results import (
    Record,
    duplicate_record,
    item_record,
    lead_item_record,
    refused_record,
    skipped_record,
)
from enrich_tools.local.rows import CsvRow
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB


@dataclass(frozen=True)
class Submitted:
    job_id: str
    rows: list[CsvRow]  # the job's items, in order: item i is rows[i] (unless skip_existing left some out)


@dataclass
class Followed:
    views: dict[str, dict[str, Any]]  # the jobs' last views, as GET /jobs/{id} returns them
    timed_out: bool = False
    stopped: str | None = None  # why following stopped before the end: a provider was switched off
    in_progress: bool = False  # a snapshot of running jobs (`enrich jobs results`), not a run's end


def sendable(rows: Sequence[CsvRow]) -> list[CsvRow]:
    """The rows that become items: valid, and not a repeat of an earlier row."""
    return [row for row in rows if row.lead is not None and row.duplicate_of is None]


def run_key(rows: Sequence[CsvRow], salt: str = "") -> str:
    """A name for this list of leads: the same leads in the same order give the same key."""
    digest = hashlib.sha256(salt.encode())
    for row in sendable(rows):
        digest.update(json.dumps(row.lead, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return "run-" + digest.hexdigest()[:40]


def submit(
    client: ApiClient,
    rows: Sequence[CsvRow],
    tags: Sequence[str] = (),
    skip_existing: bool | None = None,
    key: str | None = None,
    options: dict[str, Any] | None = None,
) -> list[Submitted]:
    """One POST /jobs per 10,000 sendable rows (the API's limit per job); refused and repeated rows are
    not sent. With `key`, job n is sent with the idempotency key `{key}-{n}`; `options` are more body
    fields for every job (priority, run_at, caps)."""
    leads = sendable(rows)
    options = dict(options or {}) | ({} if skip_existing is None else {"skip_existing": skip_existing})
    submitted = []
    for number, start in enumerate(range(0, len(leads), MAX_LEADS_PER_JOB)):
        chunk = leads[start : start + MAX_LEADS_PER_JOB]
        job = client.create_job(
            [row.lead for row in chunk if row.lead is not None],
            tags,
            idempotency_key=f"{key}-{number}" if key else None,
            **options,
        )
        submitted.append(Submitted(str(job["job_id"]), chunk))
    return submitted


def tally(views: Sequence[dict[str, Any]]) -> Tally:
    return Tally(
        processed=sum(int(v["counters"]["processed"]) for v in views),
        found=sum(int(v["counters"]["found"]) for v in views),
        credits=sum(float(v["cost"]["hunter_credits"]) for v in views),
        dollars=sum(float(v["cost"]["perplexity_usd"]) for v in views),
    )


def _row_of(job: Submitted, item: dict[str, Any]) -> CsvRow:
    """The row an item came from: item n is row n, unless skip_existing left rows out (then by lead)."""
    index = int(item["item_id"])
    if index < len(job.rows) and job.rows[index].lead == item.get("lead"):
        return job.rows[index]
    return next(
        (row for row in job.rows if row.lead == item.get("lead")), job.rows[min(index, len(job.rows) - 1)]
    )


class Tracker:
    """What has been reported of each job, and the step that reports what finished since."""

    def __init__(
        self,
        submitted: Sequence[Submitted],
        on_record: Callable[[Record], None] | None = None,
        duplicates: dict[int, list[CsvRow]] | None = None,
    ) -> None:
        self.submitted = list(submitted)
        self.frontiers = {job.job_id: JobFrontier(job.job_id) for job in submitted}
        self.on_record = on_record
        self.duplicates = duplicates or {}
        self.polls = 0

    def poll(self, client: ApiClient) -> tuple[dict[str, dict[str, Any]], str | None]:
        """The jobs' views and what finished since the last poll, handed to `on_record`; with the reason
        of a lead that finished since this run began and says a provider was switched off (the first
        poll's leads finished before: a resumed run must not stop on its predecessor's failures)."""
        views = {
            job.job_id: _retrying(functools.partial(client.get_job, job.job_id)) for job in self.submitted
        }
        stopped: str | None = None
        for job in self.submitted:
            processed = int(views[job.job_id]["counters"]["processed"])
            frontier = self.frontiers[job.job_id]
            for item in _retrying(functools.partial(frontier.new_outcomes, client, processed)):
                if self.polls and stopped is None and switched_off(item.get("reason")):
                    stopped = str(item["reason"])
                if self.on_record is None:
                    continue
                row = _row_of(job, item)
                record = item_record(row, item, ("failed", "unfinished"))
                self.on_record(record)
                for repeat in self.duplicates.get(row.line, ()):
                    self.on_record(duplicate_record(repeat, record))
        self.polls += 1
        return views, stopped


def follow(
    client: ApiClient,
    submitted: Sequence[Submitted],
    *,
    timeout: float | None,
    poll: float = 1.0,
    progress: Progress | None = None,
    on_record: Callable[[Record], None] | None = None,
    duplicates: dict[int, list[CsvRow]] | None = None,
    tracker: Tracker | None = None,
) -> Followed:
    """Poll the jobs until each has ended (or `timeout` passes, or a provider is switched off), handing
    each finished lead's record to `on_record` once, as soon as it is seen, with its repeats' records."""
    deadline = None if timeout is None else time.monotonic() + timeout
    tracker = tracker or Tracker(submitted, on_record, duplicates)
    followed = Followed({})
    while True:
        followed.views, stopped = tracker.poll(client)
        followed.stopped = followed.stopped or stopped
        if progress is not None:
            progress.update(tally(list(followed.views.values())))
        if all(v["status"] in FINAL_JOB_STATUSES for v in followed.views.values()) or followed.stopped:
            return followed
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                followed.timed_out = True
                return followed
            time.sleep(min(poll, left))
        else:
            time.sleep(poll)


_T = TypeVar("_T")
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)  # half a minute in all: a deployed API's blip, a busy state


def _retrying(call: Callable[[], _T]) -> _T:
    """A poll is retried when the API could not be reached or failed on its side (status 0, 429, 5xx):
    one bad answer must not end a long run whose leads are being paid for. Other errors are raised."""
    for delay in RETRY_DELAYS:
        try:
            return call()
        except ApiError as exc:
            if exc.status not in (0, 429) and exc.status < 500:
                raise
            time.sleep(delay)
    return call()


def _unfinished(view: dict[str, Any], followed: Followed, timeout: float | None) -> tuple[str, str]:
    """What a record says of an item that has no result yet."""
    if view["status"] == "cancelled":
        return "skipped", "job cancelled"
    if followed.in_progress:
        return "pending", "not finished yet"
    if followed.stopped:
        return "failed", "not run: the run stopped (a provider was switched off); re-run to continue"
    if followed.timed_out:
        return "failed", f"not finished within the {timeout:g} s timeout; re-run to continue"
    return "failed", f"job ended {view['status']}"


def records_in_order(
    client: ApiClient,
    rows: Sequence[CsvRow],
    submitted: Sequence[Submitted],
    followed: Followed,
    timeout: float | None = None,
) -> Iterator[Record]:
    """One record per input row, in input order, reading each job's items a page at a time: memory
    holds a page and the records that later repeated rows copy, not the whole list."""
    repeated = {row.duplicate_of for row in rows if row.duplicate_of is not None}
    kept: dict[int, Record] = {}
    jobs = iter(submitted)
    job: Submitted | None = None
    left = 0
    items: Iterator[dict[str, Any]] = iter(())
    pending: dict[str, Any] | None = None
    for row in rows:
        if row.lead is None:
            yield refused_record(row)
            continue
        if row.duplicate_of is not None:
            first = kept.get(row.duplicate_of)
            yield duplicate_record(row, first) if first else refused_record(row)
            continue
        while left == 0:
            job = next(jobs)
            left = len(job.rows)
            items, pending = all_items(client, job.job_id), None
        assert job is not None
        left -= 1
        view = followed.views[job.job_id]
        if pending is None:
            pending = next(items, None)
        if pending is not None and pending.get("lead") == row.lead:
            record = item_record(row, pending, _unfinished(view, followed, timeout))
            pending = None
        elif pending is None and int(view["counters"]["total"]) >= len(job.rows):
            record = item_record(row, None, _unfinished(view, followed, timeout))
        else:
            record = skipped_record(row)  # skip_existing: its lead had an active email already
        if row.line in repeated:
            kept[row.line] = record
        yield record


def lead_records(
    client: ApiClient, views: Sequence[dict[str, Any]], followed: Followed, timeout: float | None = None
) -> Iterator[Record]:
    """Jobs made from stored leads (lead ids, domains, process_all): a record per item, from its lead."""
    for view in views:
        unfinished = _unfinished(view, followed, timeout)
        for item in all_items(client, str(view["job_id"])):
            yield lead_item_record(item, unfinished)


def problem_of(followed: Followed, timeout: float | None) -> str | None:
    if followed.in_progress:
        return None
    if followed.stopped:
        return f"stopped: {followed.stopped}"
    if followed.timed_out:
        return f"timed out after {timeout:g} s with jobs still running; re-run to continue"
    unfinished = [v for v in followed.views.values() if v["status"] != "completed"]
    if unfinished:
        return "; ".join(f"job {v['job_id']} ended {v['status']}" for v in unfinished)
    return None
