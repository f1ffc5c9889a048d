"""A CSV through the jobs API and back: submit, wait with a progress bar, and one record per input row.

Used by `enrich run` (against the embedded stack) and `enrich jobs create --wait` (against any API), so
both report the same way and follow the same exit rule: success only when every job completed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from enrich_tools.local.client import ApiClient
from enrich_tools.local.progress import Progress
from enrich_tools.local.results import Record, item_record, lead_item_record, refused_record, skipped_record
from enrich_tools.local.rows import CsvRow
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB

FINAL_JOB_STATUSES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class Submitted:
    job_id: str
    rows: list[CsvRow]  # the job's items, in order: item i is rows[i]


@dataclass
class Outcome:
    records: list[Record]
    jobs: list[dict[str, Any]] = field(default_factory=list)  # final views, as GET /jobs/{id} returns
    problem: str | None = None  # why the run did not succeed; None when every job completed

    @property
    def ok(self) -> bool:
        return self.problem is None


def submit(
    client: ApiClient, rows: Sequence[CsvRow], tags: Sequence[str] = (), skip_existing: bool | None = None
) -> list[Submitted]:
    """One POST /jobs per 10,000 sendable rows (the API's limit per job); refused rows are not sent."""
    sendable = [row for row in rows if row.lead is not None]
    options = {} if skip_existing is None else {"skip_existing": skip_existing}
    submitted = []
    for start in range(0, len(sendable), MAX_LEADS_PER_JOB):
        chunk = sendable[start : start + MAX_LEADS_PER_JOB]
        job = client.create_job([row.lead for row in chunk if row.lead is not None], tags, **options)
        submitted.append(Submitted(str(job["job_id"]), chunk))
    return submitted


def pair_items(rows: Sequence[CsvRow], items: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """Each sent row's item. Items are in input order; with skip_existing a row whose lead already had an
    active email has none, so rows and items are matched in order by their lead (None: no item)."""
    if len(items) == len(rows):
        return list(items)
    paired: list[dict[str, Any] | None] = []
    position = 0
    for row in rows:
        if position < len(items) and items[position].get("lead") == row.lead:
            paired.append(items[position])
            position += 1
        else:
            paired.append(None)
    return paired


def wait(
    client: ApiClient, job_ids: Sequence[str], timeout: float, poll: float, progress: Progress | None
) -> tuple[dict[str, dict[str, Any]], bool]:
    """Poll the jobs until each has ended or `timeout` passes: (last views, timed out)."""
    deadline = time.monotonic() + timeout
    while True:
        views = {job_id: client.get_job(job_id) for job_id in job_ids}
        if progress is not None:
            progress.update(
                sum(int(v["counters"]["processed"]) for v in views.values()),
                sum(int(v["counters"]["found"]) for v in views.values()),
            )
        if all(v["status"] in FINAL_JOB_STATUSES for v in views.values()):
            return views, False
        left = deadline - time.monotonic()
        if left <= 0:
            return views, True
        time.sleep(min(poll, left))


def run_rows(
    client: ApiClient,
    rows: Sequence[CsvRow],
    *,
    timeout: float,
    poll: float = 1.0,
    progress_stream: TextIO | None = None,
    tags: Sequence[str] = (),
    submitted: list[Submitted] | None = None,
) -> Outcome:
    """Submit (unless `submitted` is given), wait, and collect one record per row in input order."""
    if submitted is None:
        submitted = submit(client, rows, tags)
    if not submitted:
        return Outcome([refused_record(row) for row in rows])
    total = sum(len(s.rows) for s in submitted)
    progress = Progress(progress_stream, total) if progress_stream is not None else None
    try:
        views, timed_out = wait(client, [s.job_id for s in submitted], timeout, poll, progress)
    finally:
        if progress is not None:
            progress.finish()
    by_line: dict[int, Record] = {}
    for job in submitted:
        view = views[job.job_id]
        if view["status"] == "cancelled":
            if_unfinished = ("skipped", "job cancelled")
        elif timed_out:
            if_unfinished = ("failed", f"not finished within the {timeout:g} s timeout")
        else:
            if_unfinished = ("failed", f"job ended {view['status']}")
        items = list(client.iter_items(job.job_id))
        skipped_existing = len(items) < len(job.rows) and int(view["counters"]["total"]) < len(job.rows)
        for row, item in zip(job.rows, pair_items(job.rows, items), strict=True):
            if item is None and skipped_existing:
                by_line[row.line] = skipped_record(row)
            else:
                by_line[row.line] = item_record(row, item, if_unfinished)
    records = [by_line.get(row.line) or refused_record(row) for row in rows]
    jobs = [views[s.job_id] for s in submitted]
    problem = None
    if timed_out:
        problem = f"timed out after {timeout:g} s with jobs still running"
    elif unfinished := [v for v in jobs if v["status"] != "completed"]:
        problem = "; ".join(f"job {v['job_id']} ended {v['status']}" for v in unfinished)
    return Outcome(records, jobs, problem)


def run_jobs(
    client: ApiClient,
    jobs: Sequence[dict[str, Any]],
    *,
    timeout: float,
    poll: float = 1.0,
    progress_stream: TextIO | None = None,
) -> Outcome:
    """Wait for jobs created from stored leads (lead ids, domains, process_all), then one record per item,
    from the item's own lead (there is no CSV row to follow)."""
    if not jobs:
        return Outcome([])
    total = sum(int(job["counters"]["total"]) for job in jobs)
    progress = Progress(progress_stream, total) if progress_stream is not None else None
    try:
        views, timed_out = wait(client, [str(j["job_id"]) for j in jobs], timeout, poll, progress)
    finally:
        if progress is not None:
            progress.finish()
    records: list[Record] = []
    for view in views.values():
        if view["status"] == "cancelled":
            if_unfinished = ("skipped", "job cancelled")
        elif timed_out:
            if_unfinished = ("failed", f"not finished within the {timeout:g} s timeout")
        else:
            if_unfinished = ("failed", f"job ended {view['status']}")
        records += [lead_item_record(item, if_unfinished) for item in client.iter_items(str(view["job_id"]))]
    final = list(views.values())
    problem = None
    if timed_out:
        problem = f"timed out after {timeout:g} s with jobs still running"
    elif unfinished := [v for v in final if v["status"] != "completed"]:
        problem = "; ".join(f"job {v['job_id']} ended {v['status']}" for v in unfinished)
    return Outcome(records, final, problem)
