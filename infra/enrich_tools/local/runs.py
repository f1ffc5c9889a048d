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
from enrich_tools.local.results import Record, item_record, refused_record
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


def submit(client: ApiClient, rows: Sequence[CsvRow], tags: Sequence[str] = ()) -> list[Submitted]:
    """One POST /jobs per 10,000 sendable rows (the API's limit per job); refused rows are not sent."""
    sendable = [row for row in rows if row.lead is not None]
    submitted = []
    for start in range(0, len(sendable), MAX_LEADS_PER_JOB):
        chunk = sendable[start : start + MAX_LEADS_PER_JOB]
        job = client.create_job([row.lead for row in chunk if row.lead is not None], tags)
        submitted.append(Submitted(str(job["job_id"]), chunk))
    return submitted


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
        items = {int(item["item_id"]): item for item in client.iter_items(job.job_id)}
        for index, row in enumerate(job.rows):
            by_line[row.line] = item_record(row, items.get(index), if_unfinished)
    records = [by_line.get(row.line) or refused_record(row) for row in rows]
    jobs = [views[s.job_id] for s in submitted]
    problem = None
    if timed_out:
        problem = f"timed out after {timeout:g} s with jobs still running"
    elif unfinished := [v for v in jobs if v["status"] != "completed"]:
        problem = "; ".join(f"job {v['job_id']} ended {v['status']}" for v in unfinished)
    return Outcome(records, jobs, problem)
