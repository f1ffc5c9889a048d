"""`enrich jobs create --csv` above 10,000 rows (or with `--upload`): one job read from an uploaded file.

`POST /jobs` takes 10,000 inline leads at most; a longer list goes as a file instead (docs/uploads.md).
The rows the forgiving reader (`rows`) accepted are written, already checked, as a plain UTF-8 CSV (the
lead fields as columns, a header first) to a temporary file, `POST /uploads` gives a presigned URL, the
file is PUT there (streamed, never whole in memory), and `POST /jobs {"upload_id"}` makes ONE job that
the processor reads a page at a time.

Line numbers: the server reports a row it refuses by its line in the uploaded file; `UploadedFile.starts`
maps that line back to the row it came from, so every refusal names the user's own line. The server makes
one item per row it accepts, in file order, so once the file is read (and its refusals taken out) item i
is the i-th remaining sent row: the same mapping `runs.records_in_order` uses for inline jobs.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import dataclasses
import io
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enrich_tools.local.client import ApiClient
from enrich_tools.local.follow import FINAL_JOB_STATUSES, all_items
from enrich_tools.local.job_options import job_options
from enrich_tools.local.progress import LOG_EVERY_SECONDS
from enrich_tools.local.reporting import FAILED, PARTIAL, UsageError, note
from enrich_tools.local.rows import FIELDS, CsvRow
from enrich_tools.local.runs import Submitted, sendable
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB

CONTENT_TYPE = "text/csv"


def wants_upload(rows: Sequence[CsvRow], forced: bool) -> bool:
    """Above the inline limit the file goes as an upload; `--upload` sends it so at any size."""
    return forced or len(sendable(rows)) > MAX_LEADS_PER_JOB


@dataclass(frozen=True)
class UploadedFile:
    """The CSV written for an upload and where each of its rows came from."""

    path: Path
    size: int  # bytes
    fields: tuple[str, ...]  # the header: lead fields, in `rows.FIELDS` order
    sent: list[CsvRow]  # the rows written, in file order
    starts: list[int]  # the physical line each sent row starts on in the written file (the header is 1)

    def row_at(self, line: int) -> CsvRow | None:
        """The sent row whose record holds `line` of the written file; None for the header or past the end."""
        index = bisect.bisect_right(self.starts, line) - 1
        return self.sent[index] if index >= 0 else None


def write_upload(rows: Sequence[CsvRow], directory: str | None = None) -> UploadedFile:
    """The sendable rows as a UTF-8 CSV in a new temporary file, a row at a time; the caller deletes it."""
    sent = sendable(rows)
    present = {name for row in sent for name in (row.lead or {})}
    fields = tuple(name for name in FIELDS if name in present)
    handle, name = tempfile.mkstemp(prefix="enrich-upload-", suffix=".csv", dir=directory)
    path = Path(name)
    starts: list[int] = []
    try:
        with open(handle, "w", encoding="utf-8", newline="") as out:
            record = io.StringIO()
            # Every cell quoted: a carriage return in a name must not end the record for the reader.
            writer = csv.writer(record, lineterminator="\n", quoting=csv.QUOTE_ALL)

            def put(values: Sequence[str]) -> int:
                """Write one record; the physical lines it spans (a cell may hold a line break)."""
                record.seek(0)
                record.truncate()
                writer.writerow(values)
                out.write(text := record.getvalue())
                return text.count("\n")

            line = 1 + put(fields)  # the line the next record starts on
            for row in sent:
                starts.append(line)
                line += put([str((row.lead or {}).get(name, "")) for name in fields])
        return UploadedFile(path, path.stat().st_size, fields, sent, starts)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class UploadJob:
    job_id: str
    file: UploadedFile


def create_upload_job(
    client: ApiClient, rows: Sequence[CsvRow], source: str, args: argparse.Namespace
) -> UploadJob:
    """Write, upload and make the job (with the command's tags and options); prints the job id first.
    UsageError for --skip-existing: an uploaded file's rows are not matched to stored leads."""
    if getattr(args, "skip_existing", None):
        raise UsageError(
            "--skip-existing does not go with an upload (above 10,000 rows, or --upload): its rows are not "
            "matched to stored leads; send the file in parts of 10,000 rows to skip them"
        )
    written = write_upload(rows)
    try:
        filename = f"{Path(source).stem or 'leads'}.csv"
        upload = client.create_upload(written.size, filename, CONTENT_TYPE)
        client.put_file(str(upload["url"]), dict(upload.get("headers") or {}), written.path)
    finally:
        written.path.unlink(missing_ok=True)
    body: dict[str, Any] = {
        "upload_id": upload["upload_id"],
        "columns": {name: name for name in written.fields},
    } | job_options(args)
    if args.tag:
        body["tags"] = list(args.tag)
    job = client.post_job(body)
    job_id = str(job["job_id"])
    print(
        f"{job_id}  {len(written.sent)} leads uploaded ({_size(written.size)}): the job is reading them "
        f"(enrich jobs show {job_id})",
        flush=True,
    )
    return UploadJob(job_id, written)


@dataclass
class Loaded:
    """An upload job once its file is read: the rows as they now stand (the server's refusals marked
    refused, each lead as its item holds it), the job as followed from here, how many rows the server did
    not read (the daily lead quota stopped it), and the time left of the command's timeout."""

    rows: list[CsvRow]
    submitted: list[Submitted]
    unread: int
    timeout: float | None


def wait_loaded(
    client: ApiClient,
    job: UploadJob,
    rows: Sequence[CsvRow],
    source: str,
    timeout: float | None,
    poll: float,
) -> Loaded | int:
    """Follow the reading of the file (a progress line on stderr) until it is read; then the server's
    refusals by the user's own lines. An exit code instead when it cannot be followed on: the file could
    not be read (the job failed), the job ended before it was read, or the timeout passed."""
    started = time.monotonic()
    shown = _LoadingLine()
    while True:
        view = client.get_job(job.job_id)
        upload = view.get("upload") or {}
        state = upload.get("state")
        shown.update(upload, final=state != "loading")
        if state == "failed" or (state != "loaded" and view["status"] == "failed"):
            shown.finish()
            reason = upload.get("failure") or "no reason given"
            note(f"error: job {job.job_id} failed: the uploaded file could not be read: {reason}")
            return FAILED
        if state == "loaded":
            break
        if view["status"] in FINAL_JOB_STATUSES:
            shown.finish()
            note(
                f"error: job {job.job_id} ended {view['status']} while its file was being read "
                f"({upload.get('rows', 0)} of {len(job.file.sent)} rows read)"
            )
            return PARTIAL
        left = None if timeout is None else timeout - (time.monotonic() - started)
        if left is not None and left <= 0:
            shown.finish()
            note(
                f"error: timed out after {timeout:g} s while the file was still being read; the job goes "
                f"on: enrich jobs show {job.job_id}, enrich jobs results {job.job_id} --output FILE"
            )
            return PARTIAL
        time.sleep(poll if left is None else min(poll, left))
    shown.finish()
    left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
    return settle(client, job, rows, upload, source, left)


def settle(
    client: ApiClient,
    job: UploadJob,
    rows: Sequence[CsvRow],
    upload: dict[str, Any],
    source: str,
    timeout: float | None,
) -> Loaded:
    """The rows once the file is read: each the server refused (or did not read) reported and marked
    refused under the user's line, the others' leads as their items hold them, so that item i is the
    i-th remaining sent row (`runs.records_in_order` checks each pair by its lead)."""
    read = min(len(job.file.sent), int(upload.get("rows") or 0) + int(upload.get("refused") or 0))
    problems = refusals(client, job, upload, read)
    for problem in problems.values():
        note(f"refused by the API (reported as invalid): {source} {problem}")
    unread = job.file.sent[read:]
    if unread:
        why = upload.get("stopped") or "the workspace's daily lead quota was reached"
        note(
            f"error: the API read {read:,} of the {len(job.file.sent):,} rows sent ({why}); the rest, from "
            f"{source} line {unread[0].line} on, are reported as not read: send them again in a new job"
        )
        for row in unread:
            problems[row.line] = f"line {row.line}: not read by the API ({why}): send it again"
    now = [_settled(row, problems.get(row.line)) for row in rows]
    kept = [row for row in now if row.sendable]
    return Loaded(now, [Submitted(job.job_id, kept)], len(unread), timeout)


def _settled(row: CsvRow, problem: str | None) -> CsvRow:
    if problem is not None:
        return dataclasses.replace(row, lead=None, problem=problem)
    if row.lead is None:
        return row
    return dataclasses.replace(row, lead=as_uploaded(row.lead))


def as_uploaded(lead: dict[str, str]) -> dict[str, str]:
    """The lead as an item read from its uploaded record holds it: the server leaves empty cells out
    (`leadenrich.uploads.csv_records.read_row`), where a lead sent inline keeps an empty name as ""."""
    return {name: value for name, value in lead.items() if value != ""}


def refusals(client: ApiClient, job: UploadJob, upload: dict[str, Any], read: int) -> dict[int, str]:
    """The rows among the first `read` sent that the server made no item of, by their line in the user's
    file, each with why (naming that line). The job lists the first refusals
    (`leadenrich.uploads.models.MAX_ROW_ERRORS`); any beyond are found by walking its items beside the
    rows (an item holds its row's lead)."""
    found: dict[int, str] = {}
    for error in upload.get("errors") or ():
        row = job.file.row_at(int(error["line"]))
        if row is not None and row.line not in found:
            why = f"field '{error['field']}': {error['message']}"
            found[row.line] = f"line {row.line}: {why} (refused by the API)"
    if int(upload.get("refused") or 0) > len(found):
        unlisted = "refused by the API (its reason is not listed: only the first refusals are)"
        for row in _without_item(all_items(client, job.job_id), job.file.sent[:read]):
            found.setdefault(row.line, f"line {row.line}: {unlisted}")
    return dict(sorted(found.items()))


def _without_item(items: Iterator[dict[str, Any]], sent: Sequence[CsvRow]) -> Iterator[CsvRow]:
    """The rows, in order, that no item carries (the items are the accepted rows' leads, in file order)."""
    pending = next(items, None)
    for row in sent:
        if pending is not None and pending.get("lead") == as_uploaded(row.lead or {}):
            pending = next(items, None)
        else:
            yield row


class _LoadingLine:
    """'reading the upload: 41,000 of 100,000 rows (4.1 MB of 9.8 MB)': redrawn on a terminal, a line
    per change at most every few seconds otherwise (as `progress.Progress` does)."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = ""
        self._logged = 0.0
        self._drawn = False

    def update(self, upload: dict[str, Any], *, final: bool) -> None:
        text = (
            f"reading the upload: {int(upload.get('rows') or 0):,} rows read"
            f" ({_size(int(upload.get('bytes_read') or 0))} of {_size(int(upload.get('size') or 0))})"
        )
        if refused := int(upload.get("refused") or 0):
            text += f", {refused:,} refused"
        now = time.monotonic()
        if self._tty:
            _write(f"\r{text}\033[K")
            self._drawn = True
        elif text != self._last and (final or now - self._logged >= LOG_EVERY_SECONDS):
            note(text)
            self._logged = now
        self._last = text

    def finish(self) -> None:
        if self._tty and self._drawn:
            _write("\n")
            self._drawn = False


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def _size(size: int) -> str:
    if size < 1000 * 1000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1000 / 1000:.1f} MB"


__all__ = [
    "Loaded",
    "UploadJob",
    "UploadedFile",
    "create_upload_job",
    "wait_loaded",
    "wants_upload",
    "write_upload",
]
