"""Reading an uploaded CSV into its job's items, page by page, in bounded memory: run by the processor for
each due job whose upload is still loading (`jobs.control.release_due_jobs`), within a share of its run.

One reader at a time: a reader claims the job by moving its due time to a lease (`update_job` with the due
time it read as the expected one: one winner), and while it is in the future `due_jobs` does not return the
job, so fan-out processors do not read the same file. Each page's progress is written with a NEW lease, so
a concurrent `PATCH /jobs` or a reader whose lease was taken over fails its compare-and-set instead of
putting the offset back. The reader reads ranges of `CHUNK_BYTES` from the recorded offset, splits them
into records (`csv_records`), and makes up to `PAGE_RECORDS` rows a page: its items (ids in file order from
the rows made so far) appended in one call, then the progress (offset, line, rows, refusals). A page whose
append says it is stored already was appended by a reader that died before writing its progress: it is
counted and reading goes on, so a crash anywhere makes no item twice.

At its deadline the reader stops between pages, giving the job back (due now) for the next run. At the end
the upload is "loaded" and the job due at its `run_at` (or now): the processor's release sends its first
queue window, as for any scheduled job. A file that cannot be read, or from which no row could be read,
fails the job (`fail_job`) with the reason in `upload.failure`, naming the line.

The daily lead quota is reserved page by page, as `process_all` does. When it runs out mid-file the rows
read so far make the job, reading stops there, and `upload.stopped` says at which line (docs/uploads.md);
with no row read yet, the job fails saying so. A paused job is looked at again every `PAUSED_RECHECK`; a
cancelled one is handed back to be released (its loaded items are skipped as any cancelled job's are).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from leadenrich.auth.quota import LeadQuota, utc_day
from leadenrich.deadline import Deadline
from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, Job, JobStatus
from leadenrich.jobs.ports import ItemAppender, JobStore
from leadenrich.uploads.csv_records import (
    CsvFileError,
    Header,
    Record,
    RecordSplitter,
    read_header,
    read_row,
)
from leadenrich.uploads.models import MAX_ROW_ERRORS, RowError, UploadState
from leadenrich.uploads.ports import BlobStore

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # well past one page's time; a dead reader's job waits this long at most
PAUSED_RECHECK = timedelta(minutes=5)
CHUNK_BYTES = 1 << 20  # one ranged read
PAGE_RECORDS = 500  # rows per page (Supabase's batch: one transaction per page)
MAX_ROWS = 1_000_000  # items of one job: their ids stay 6 digits
LOAD_SHARE = 0.5  # of what is left of a processor run
MIN_PAGE_SECONDS = 2.0  # a page is begun only with this much of the deadline left
_TICK = timedelta(microseconds=1)  # the stores keep due times to the microsecond


@dataclass(frozen=True)
class DailyQuota:
    """The workspace daily lead quota (`auth.quota`) the rows are reserved from, and its limit."""

    quota: LeadQuota
    limit: int


@dataclass
class _Page:
    """Rows read since the last progress write: at most PAGE_RECORDS, and the items they made."""

    rows: int  # items made before this page: the first item's id
    end: int  # the offset after the page's last record
    line: int  # the page's last line
    header: Header | None = None
    records: int = 0
    items: list[Item] = field(default_factory=list)
    item_records: list[Record] = field(default_factory=list)  # each item's record
    errors: list[RowError] = field(default_factory=list)

    def take(self, record: Record) -> None:
        self.records += 1
        self.end, self.line = record.end, record.last_line


class _Stop(Exception):
    """Reading stops here; `job` is to be released now (None: nothing to release)."""

    def __init__(self, job: Job | None = None) -> None:
        super().__init__("stop")
        self.job = job


class UploadLoader:
    """Reads due upload jobs (module docstring); one per processor, its `within` handed to each run."""

    def __init__(
        self,
        store: JobStore,
        blobs: BlobStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        quota: DailyQuota | None = None,
        max_rows: int = MAX_ROWS,
    ) -> None:
        if not isinstance(store, ItemAppender):
            raise TypeError("reading uploads needs a job store that appends items (ItemAppender)")
        self.store: JobStore = store
        self.appender: ItemAppender = store
        self.blobs = blobs
        self.clock = clock
        self.quota = quota if quota is not None and quota.limit > 0 else None
        self.max_rows = max_rows

    def within(self, deadline: Deadline) -> Callable[[Job], Awaitable[Job | None]]:
        """`load` for one processor run: at most LOAD_SHARE of what is left of its deadline, for all the
        uploads it reads."""
        share = Deadline.after(max(0.0, deadline.remaining()) * LOAD_SHARE)

        async def load(job: Job) -> Job | None:
            return await self.load(job, share)

        return load

    async def load(self, job: Job, deadline: Deadline) -> Job | None:
        """Read what `deadline` allows of the due job's upload. Returns the job when it is to be released
        now (loaded and due, or cancelled while loading), else None."""
        upload = job.options.upload
        if upload is None or job.due_at is None:
            return job
        now = self.clock()
        if upload.state == "failed" or job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
            await self.store.fail_job(job.workspace_id, job.job_id, now)  # its reader died in between
            await self.store.release_due(job.workspace_id, job.job_id, job.due_at)
            return None
        if upload.state == "loaded" or job.status is JobStatus.CANCELLED:
            return job
        if job.status is JobStatus.PAUSED:
            await self._put(job, upload, due_at=now + PAUSED_RECHECK)
            return None
        if deadline.remaining() <= 0:
            return None  # this run's share is spent: the next run reads it
        lease = now + LEASE
        leased = await self._put(job, upload, due_at=lease)
        if leased is None:
            return None  # another reader has it, or the job changed meanwhile
        try:
            return await _Reading(self, leased, lease, deadline).run()
        except _Stop as stop:
            return stop.job
        except Exception as exc:  # its lease runs out and a later run goes on from the last page
            log.error("reading an upload failed", extra={"error": type(exc).__name__, "job": job.job_id})
            return None

    async def _put(
        self, job: Job, upload: UploadState, *, due_at: datetime, expected: datetime | None = None
    ) -> Job | None:
        """The upload state and due time written, only while the due time is still `expected` (default:
        the job's)."""
        return await self.store.update_job(
            job.workspace_id,
            job.job_id,
            options=dataclasses.replace(job.options, upload=upload),
            due_at=due_at,
            expected_due_at=job.due_at if expected is None else expected,
            now=self.clock(),
        )


class _Reading:
    """One reader's turn at one job, from its recorded offset to the deadline or the end of the file."""

    def __init__(self, loader: UploadLoader, job: Job, lease: datetime, deadline: Deadline) -> None:
        assert job.options.upload is not None
        self.loader, self.store, self.deadline = loader, loader.store, deadline
        self.job, self.lease = job, lease
        self.state: UploadState = job.options.upload
        self.header = _header(self.state)

    async def run(self) -> Job | None:
        state = self.state
        splitter = RecordSplitter(state.offset, state.line + 1)
        page = _Page(state.rows, state.offset, state.line)
        position = state.offset
        try:
            while True:
                end = position >= state.size
                if end:
                    records = splitter.finish()
                else:
                    chunk = await self._chunk(position, page.line + 1)
                    if not chunk:
                        raise CsvFileError(page.line + 1, "the file is shorter than when the job was made")
                    position += len(chunk)
                    records = splitter.feed(chunk)
                for record in records:
                    self._read(record, page)
                    if page.records >= PAGE_RECORDS:
                        page = await self._commit(page)
                del records
                if end:
                    break
        except CsvFileError as exc:
            return await self._fail(str(exc))
        if self.header is None:
            return await self._fail(f"line {max(page.line, 1)}: no header row: the file is empty or blank")
        await self._commit(page, last=True)
        return await self._finish()

    async def _chunk(self, position: int, line: int) -> bytes:
        state = self.state
        try:
            return await self.loader.blobs.read_range(
                state.key, position, min(CHUNK_BYTES, state.size - position)
            )
        except KeyError:
            raise CsvFileError(line, "the uploaded file is gone (deleted): upload it again") from None

    def _read(self, record: Record, page: _Page) -> None:
        if self.header is None:  # the header (or a blank line before it): not one of the page's rows
            self.header = page.header = read_header(record, dict(self.state.column_map))
            page.end, page.line = record.end, record.last_line
            return
        row = read_row(record, self.header)
        if isinstance(row, RowError):
            page.errors.append(row)
        elif isinstance(row, Lead):
            rows = page.rows + len(page.items)
            if rows >= self.loader.max_rows:
                raise CsvFileError(record.line, f"more than {self.loader.max_rows:,} rows: split the file")
            job = self.job
            page.items.append(Item(job.workspace_id, job.job_id, f"{rows:06d}", lead=row))
            page.item_records.append(record)
        page.take(record)

    async def _commit(self, page: _Page, *, last: bool = False) -> _Page:
        """Append the page's items (after reserving them from the quota) and write the progress with a new
        lease, or give the job back (due now) when the deadline is near. Raises _Stop when reading ends."""
        current = await self._current()
        # Items of this page a reader appended before it died, its progress unwritten (the store adds an
        # append's items to the total in the same transaction): not reserved or appended again.
        stored = min(len(page.items), max(0, current.counters.total - page.rows))
        stopped: str | None = None
        if (granted := await self._reserve(len(page.items) - stored)) < len(page.items) - stored:
            stopped = _trim(page, stored + granted, self.loader.quota)  # what the quota took today runs
        if fresh := page.items[stored:]:
            try:
                await self.loader.appender.append_items(current, fresh)
            except ValueError:  # stored already after all, or the job is no longer pending
                await self._release(len(fresh))
                current = await self._current()  # stops unless the job is still pending and ours
                if current.counters.total < page.rows + len(page.items):
                    raise  # not stored: the lease runs out, and a later run tries again
        state = dataclasses.replace(
            self.state,
            offset=page.end,
            line=page.line,
            rows=page.rows + len(page.items),
            refused=self.state.refused + len(page.errors),
            errors=(*self.state.errors, *page.errors)[:MAX_ROW_ERRORS],
            stopped=stopped,
        )
        state = _with_header(state, page.header)
        if stopped is not None:
            await self._write(current, state, self._next_lease())
            raise _Stop(await self._finish())
        near = not last and self.deadline.remaining() < MIN_PAGE_SECONDS
        await self._write(current, state, self.loader.clock() if near else self._next_lease())
        if near:
            raise _Stop()  # given back: the next run goes on from here
        return _Page(state.rows, state.offset, state.line)

    async def _current(self) -> Job:
        """The job as stored, while it is still ours and pending; else _Stop (a cancelled job is released,
        a paused one looked at again later)."""
        job = await self.store.get_job(self.job.workspace_id, self.job.job_id)
        if job is None or job.due_at != self.lease:
            raise _Stop()  # the lease was taken over, or a PATCH moved the due time
        if job.status is JobStatus.CANCELLED:
            raise _Stop(job)
        if job.status is JobStatus.PAUSED:
            await self.loader._put(job, self.state, due_at=self.loader.clock() + PAUSED_RECHECK)
            raise _Stop()
        if job.status is not JobStatus.PENDING:
            raise _Stop()
        return job

    async def _write(self, current: Job, state: UploadState, due_at: datetime) -> None:
        """The progress, only while the lease is ours (the options as stored now: a PATCH's changes kept)."""
        written = await self.loader._put(current, state, due_at=due_at, expected=self.lease)
        if written is None:  # taken over, or cancelled meanwhile: then released now, not when the lease ends
            now = await self.store.get_job(current.workspace_id, current.job_id)
            ours = now is not None and now.due_at == self.lease and now.status is JobStatus.CANCELLED
            raise _Stop(now if ours else None)
        self.job, self.lease, self.state = written, due_at, state

    def _next_lease(self) -> datetime:
        """A due time later than the current lease, so every progress write changes it."""
        return max(self.loader.clock() + LEASE, self.lease + _TICK)

    async def _reserve(self, count: int) -> int:
        """How many of `count` rows the workspace's quota takes today (all of them without a quota)."""
        quota = self.loader.quota
        if quota is None or count == 0:
            return count
        day, ws = utc_day(self.loader.clock()), self.job.workspace_id
        if await quota.quota.reserve(ws, day, count, quota.limit):
            return count
        left = min(count, max(0, quota.limit - await quota.quota.used(ws, day)))
        return left if left and await quota.quota.reserve(ws, day, left, quota.limit) else 0

    async def _release(self, count: int) -> None:
        if self.loader.quota is not None and count:
            day = utc_day(self.loader.clock())
            await self.loader.quota.quota.release(self.job.workspace_id, day, count)

    async def _finish(self) -> Job | None:
        """The end of reading: the job loaded and due at its run_at (or now), or failed when no row made an
        item. Returns the job when it is due now."""
        state = self.state
        if state.rows == 0:
            if state.stopped is not None:
                return await self._fail(state.stopped)
            if state.refused:
                return await self._fail(
                    f"line {state.line}: no row could be read: {state.refused:,} refused (the first of them "
                    "in `errors`, with their lines)"
                )
            return await self._fail(f"line {state.line}: no data rows after the header")
        now = self.loader.clock()
        run_at = self.job.options.run_at
        due = run_at if run_at is not None and run_at > now else now
        loaded = dataclasses.replace(state, state="loaded", loaded_at=now.isoformat())
        await self._write(await self._current(), loaded, due)
        log.info(
            "upload loaded", extra={"job": self.job.job_id, "rows": state.rows, "refused": state.refused}
        )
        return self.job if due <= now else None

    async def _fail(self, reason: str) -> Job | None:
        """The reason recorded first, then the job failed: a crash in between fails it on the next run.
        None: a failed job is not released."""
        failed = dataclasses.replace(self.state, state="failed", failure=reason[:2000])
        current = await self.store.get_job(self.job.workspace_id, self.job.job_id)
        if current is None or current.due_at != self.lease:
            return None
        await self._write(current, failed, self._next_lease())
        await self.store.fail_job(self.job.workspace_id, self.job.job_id, self.loader.clock())
        log.info("upload failed", extra={"job": self.job.job_id, "line": self.state.line})
        return None


def _header(state: UploadState) -> Header | None:
    """The header as read by an earlier reader (none before the first page is written)."""
    if state.offset == 0 or not state.columns:
        return None
    return Header(state.delimiter, state.columns, state.width, state.names)


def _with_header(state: UploadState, header: Header | None) -> UploadState:
    if header is None:
        return state
    return dataclasses.replace(
        state, delimiter=header.delimiter, columns=header.columns, width=header.width, names=header.names
    )


def _trim(page: _Page, keep: int, quota: DailyQuota | None) -> str:
    """Keep the page's first `keep` items and the rows before the next one; say where reading stopped."""
    first_left = page.item_records[keep]
    page.end, page.line = first_left.start, first_left.line - 1
    page.items, page.item_records = page.items[:keep], page.item_records[:keep]
    page.errors = [e for e in page.errors if e.line < first_left.line]
    limit = f" ({quota.limit:,} a day)" if quota is not None else ""
    return (
        f"line {first_left.line}: the workspace's daily lead quota{limit} was reached: the rows from this "
        "line on were not read; upload them in a new job after 00:00 UTC"
    )
