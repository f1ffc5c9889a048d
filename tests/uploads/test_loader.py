"""The processor's reading of uploaded CSVs into job items (`uploads.loader`), on the real job stores
(SQLite; DynamoDB on moto), the SQLite queue and quota, and a dict-backed object store: pages resumed where
the last run stopped, no item made twice through crashes and rival readers, refused rows and failed files
reported by line, the quota, cancel and pause, and the release that follows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
import pytest

from leadenrich.auth.quota import utc_day
from leadenrich.deadline import Deadline
from leadenrich.engine.models import EnrichmentResult, Lead
from leadenrich.jobs.control import Released, release_due_jobs
from leadenrich.jobs.models import Item, Job, JobStatus
from leadenrich.jobs.ports import JobStore
from leadenrich.jobs.processor import Processor, ProcessorSettings
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.jobs.window import DEFAULT_WINDOW
from leadenrich.sqlite.db import FILE_NAME, Database
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.sqlite.quota import SqliteLeadQuota
from leadenrich.uploads.loader import CHUNK_BYTES, LEASE, PAUSED_RECHECK, DailyQuota, UploadLoader
from leadenrich.uploads.models import UploadState
from tests.support.backends import DynamoJobStore, create_table
from tests.support.blobs import DictBlobStore

WS = "default"
UPLOAD_ID = "upl_" + "ab" * 16
SHORT = 0.5  # a run's deadline that leaves time for one page only (the loader begins one with 2 s left)


class Clock:
    """The wall clock, plus what a test skipped (leases run out without waiting)."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped

    def skip(self, delta: timedelta) -> None:
        self.skipped += delta


class World:
    def __init__(self, store: JobStore, db: Database) -> None:
        self.clock = Clock()
        self.store = store
        self.queue = SqliteWorkQueue(db, clock=lambda: self.clock().timestamp())
        self.quota = SqliteLeadQuota(db)
        self.blobs = DictBlobStore()
        self.service = JobService(store, self.queue, self.clock, queue_window=DEFAULT_WINDOW)
        self.service.blobs = self.blobs

    def loader(self, **options: Any) -> UploadLoader:
        return UploadLoader(self.store, self.blobs, self.clock, **options)

    async def create(self, data: bytes, upload_id: str = UPLOAD_ID, **request: Any) -> Job:
        self.blobs.objects[f"uploads/{WS}/{upload_id}.csv"] = data
        body = CreateJobRequest.model_validate({"upload_id": upload_id, **request})
        return (await self.service.create_job(WS, body)).job

    async def run(self, loader: UploadLoader | None = None, seconds: float = SHORT) -> Released:
        """One processor run's release duty: due uploads read within the run's share, then released."""
        load = (loader or self.loader()).within(Deadline.after(seconds))
        return await release_due_jobs(self.store, self.queue, self.clock(), load=load)

    async def job(self, job_id: str) -> Job:
        job = await self.store.get_job(WS, job_id)
        assert job is not None
        return job

    async def upload(self, job_id: str) -> UploadState:
        upload = (await self.job(job_id)).options.upload
        assert upload is not None
        return upload

    async def items(self, job_id: str) -> list[Item]:
        found: list[Item] = []
        cursor: str | None = None
        while True:
            page = await self.store.list_items(WS, job_id, limit=1000, cursor=cursor)
            found += page.items
            if (cursor := page.cursor) is None:
                return found

    async def queued(self) -> int:
        return (await self.queue.depth()).visible


@pytest.fixture(params=["sqlite", "dynamodb"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    db = Database(tmp_path / FILE_NAME)
    store: JobStore
    if request.param == "sqlite":
        from leadenrich.sqlite.job_store import SqliteJobStore

        store = SqliteJobStore(db)
    else:
        request.getfixturevalue("mocked_aws")
        client = boto3.client("dynamodb")
        create_table(client, "leadenrich")
        store = DynamoJobStore("leadenrich", client, serialize_calls=True)
    yield World(store, db)
    db.close()


def leads_file(rows: int, *, pad: int = 0, bad: Sequence[int] = (), end: bytes = b"\n") -> bytes:
    """A header and `rows` rows (`c<i>.example.com`); the rows in `bad` have no usable domain; `pad` bytes
    of notes per row make the file span several ranged reads."""
    out = [b"Website,Company,Notes"]
    for i in range(rows):
        domain = b"not a domain" if i in bad else f"c{i}.example.com".encode()
        out.append(domain + f",Company {i},".encode() + b"n" * pad)
    return end.join(out) + end


# --- reading in runs ----------------------------------------------------------------------------------------


async def test_a_2000_row_file_read_over_several_runs_makes_each_item_once_in_file_order(
    world: World,
) -> None:
    data = leads_file(2000, pad=1500)  # about 3 MiB: records cross the 1 MiB reads
    job = await world.create(data)
    assert (job.status, job.counters.total, job.due_at is not None) == (JobStatus.PENDING, 0, True)

    runs = 0
    while (await world.upload(job.job_id)).state == "loading":
        offset = (await world.upload(job.job_id)).offset
        reads_before = len(world.blobs.reads)
        await world.run()
        runs += 1
        if offset < len(data):  # (the last run finds the end of the file and reads nothing)
            assert world.blobs.reads[reads_before][1] == offset  # it goes on where the last run stopped
        assert runs <= 6
    assert runs == 5  # four pages of 500 rows, one per run, and the end of the file

    upload = await world.upload(job.job_id)
    assert (upload.state, upload.rows, upload.refused, upload.offset) == ("loaded", 2000, 0, len(data))
    assert upload.line == 2001 and upload.loaded_at is not None
    assert all(length <= CHUNK_BYTES for _, _, length in world.blobs.reads)
    items = await world.items(job.job_id)
    assert [i.item_id for i in items] == [f"{n:06d}" for n in range(2000)]
    assert [i.lead.domain for i in items] == [f"c{n}.example.com" for n in range(2000)]
    released = await world.job(job.job_id)
    assert (released.counters.total, released.due_at) == (2000, None)  # released by the last run
    assert await world.queued() == DEFAULT_WINDOW


async def test_a_reader_that_dies_between_an_append_and_its_progress_makes_no_duplicate(
    world: World,
) -> None:
    job = await world.create(leads_file(1200))
    crashing = CrashOnce(world.store, at=2)  # the claim is update 1; the first page's progress is update 2
    quota = DailyQuota(world.quota, 10_000)
    dead = UploadLoader(cast(JobStore, crashing), world.blobs, world.clock, quota=quota)
    assert (await world.run(dead, seconds=30)).jobs == 0
    assert crashing.crashed and (await world.job(job.job_id)).counters.total == 500  # appended, unrecorded
    assert (await world.upload(job.job_id)).offset == 0

    await world.run(world.loader(quota=quota), seconds=30)  # its lease holds: nobody reads it
    assert (await world.upload(job.job_id)).state == "loading"
    world.clock.skip(LEASE + timedelta(seconds=1))
    await world.run(world.loader(quota=quota), seconds=30)

    upload = await world.upload(job.job_id)
    assert (upload.state, upload.rows) == ("loaded", 1200)
    items = await world.items(job.job_id)
    assert [i.item_id for i in items] == [f"{n:06d}" for n in range(1200)]
    assert (await world.job(job.job_id)).counters.total == 1200
    assert await world.quota.used(WS, utc_day(world.clock())) == 1200  # the page reserved once


async def test_two_readers_at_once_one_claims_and_reads(world: World) -> None:
    job = await world.create(leads_file(700))
    (due,) = await world.store.due_jobs(world.clock())
    first, second = world.loader(), world.loader()
    results = await asyncio.gather(first.load(due, Deadline.after(30)), second.load(due, Deadline.after(30)))
    assert sorted(r is not None for r in results) == [False, True]  # one read it and hands it to release
    assert len(world.blobs.reads) == 1
    assert len(await world.items(job.job_id)) == 700


async def test_a_reader_whose_lease_was_taken_over_writes_nothing_more(world: World) -> None:
    job = await world.create(leads_file(1200))
    gate = GatedBlobs(world.blobs.objects)
    slow = UploadLoader(world.store, gate, world.clock)
    (due,) = await world.store.due_jobs(world.clock())
    stalled = asyncio.create_task(slow.load(due, Deadline.after(30)))
    await gate.entered.wait()  # it holds the lease, stuck in its first read

    world.clock.skip(LEASE + timedelta(seconds=1))
    (expired,) = await world.store.due_jobs(world.clock())
    assert await world.loader().load(expired, Deadline.after(30)) is not None  # read to the end
    gate.release.set()
    assert await stalled is None

    upload = await world.upload(job.job_id)
    assert (upload.state, upload.rows) == ("loaded", 1200)
    assert [i.item_id for i in await world.items(job.job_id)] == [f"{n:06d}" for n in range(1200)]


# --- what the file says -------------------------------------------------------------------------------------


async def test_refused_rows_are_reported_with_their_lines_and_the_others_make_items(world: World) -> None:
    bad = [3, 499, 500, 1100, *range(1150, 1300)]  # 154 refused, across pages
    job = await world.create(leads_file(1400, bad=bad))
    while (await world.upload(job.job_id)).state == "loading":
        await world.run()
    upload = await world.upload(job.job_id)
    assert (upload.rows, upload.refused) == (1400 - 154, 154)
    assert [e.line for e in upload.errors] == [i + 2 for i in bad][:100]  # the header is line 1
    assert {e.field for e in upload.errors} == {"domain"}
    assert "(column 'Website')" in upload.errors[0].message
    items = await world.items(job.job_id)
    assert [i.item_id for i in items] == [f"{n:06d}" for n in range(1246)]  # ids with no gap
    assert items[3].lead.domain == "c4.example.com"


async def test_quoted_cells_spanning_lines_keep_the_line_numbers_right_across_pages(world: World) -> None:
    rows = [b"domain,company_name"]
    for i in range(1200):
        domain = b"bad domain" if i in (10, 700, 1199) else f"c{i}.example.com".encode()
        rows.append(domain + f',"Company {i}\r\nsecond line"'.encode())
    job = await world.create(b"\r\n".join(rows) + b"\r\n")
    while (await world.upload(job.job_id)).state == "loading":
        await world.run()
    upload = await world.upload(job.job_id)
    assert [e.line for e in upload.errors] == [2 + 2 * i for i in (10, 700, 1199)]
    assert upload.line == 1 + 2 * 1200
    items = await world.items(job.job_id)
    assert items[0].lead.company_name == "Company 0\r\nsecond line"


@pytest.mark.parametrize(
    ("data", "failure"),
    [
        (leads_file(1200)[:-30] + "Café\n".encode("cp1252"), "line 1201: not UTF-8 text (byte 0xe9)"),
        (b"Email,Phone\nx@y.com,1\n", "line 1: the header must have a 'domain' column"),
        (leads_file(3, bad=[0, 1, 2]), "line 4: no row could be read: 3 refused"),
        (b"domain\n", "line 1: no data rows after the header"),
        (b"\n \n", "line 2: no header row"),
        (leads_file(900) + b'x.com,"open\n', "line 902: a quoted cell opened on line 902 is never closed"),
        (b"domain\nacme.com\n\x00\x01", "line 3: NUL bytes"),
    ],
)
async def test_a_file_that_cannot_be_read_fails_its_job_naming_the_line(
    world: World, data: bytes, failure: str
) -> None:
    job = await world.create(data)
    for _ in range(4):
        await world.run()
    failed = await world.job(job.job_id)
    upload = failed.options.upload
    assert upload is not None and upload.failure is not None
    assert (failed.status, failed.due_at, upload.state) == (JobStatus.FAILED, None, "failed")
    assert upload.failure.startswith(failure)
    assert await world.queued() == 0


async def test_a_file_deleted_before_it_is_read_fails_its_job(world: World) -> None:
    job = await world.create(leads_file(10))
    world.blobs.objects.clear()
    await world.run()
    upload = await world.upload(job.job_id)
    assert upload.failure == "line 1: the uploaded file is gone (deleted): upload it again"


async def test_rows_past_the_limit_fail_the_job_naming_the_line(world: World) -> None:
    job = await world.create(leads_file(5))
    await world.run(world.loader(max_rows=3))
    assert (await world.upload(job.job_id)).failure == "line 5: more than 3 rows: split the file"


async def test_the_caller_s_column_map_is_kept_and_followed(world: World) -> None:
    data = b"Site,Org\nacme.com,Acme\n"
    job = await world.create(data, columns={"domain": "Site", "company_name": "Org"})
    assert (await world.upload(job.job_id)).column_map == (("domain", "Site"), ("company_name", "Org"))
    await world.run()
    (item,) = await world.items(job.job_id)
    assert item.lead == Lead(domain="acme.com", company_name="Acme")


# --- quota, schedule, cancel, pause -------------------------------------------------------------------------


async def test_the_quota_running_out_mid_file_runs_what_was_read_and_says_where_it_stopped(
    world: World,
) -> None:
    quota = DailyQuota(world.quota, 1200)
    job = await world.create(leads_file(2000, bad=[5]))
    while (await world.upload(job.job_id)).state == "loading":
        await world.run(world.loader(quota=quota))
    upload = await world.upload(job.job_id)
    assert (upload.state, upload.rows, upload.refused) == ("loaded", 1200, 1)
    assert upload.stopped is not None
    assert upload.stopped.startswith("line 1203: the workspace's daily lead quota (1,200 a day) was reached")
    assert await world.quota.used(WS, utc_day(world.clock())) == 1200
    assert len(await world.items(job.job_id)) == 1200 and await world.queued() == DEFAULT_WINDOW

    second = await world.create(leads_file(10), upload_id="upl_" + "cd" * 16)
    await world.run(world.loader(quota=quota))
    failed = await world.upload(second.job_id)
    assert failed.state == "failed" and failed.failure is not None
    assert failed.failure.startswith("line 2: the workspace's daily lead quota (1,200 a day) was reached")


async def test_a_scheduled_upload_is_read_at_once_and_released_at_its_run_at(world: World) -> None:
    run_at = world.clock() + timedelta(hours=1)
    job = await world.create(leads_file(20), run_at=run_at.isoformat())
    assert (await world.run()).jobs == 0
    loaded = await world.job(job.job_id)
    assert loaded.options.upload is not None and loaded.options.upload.state == "loaded"
    assert loaded.due_at == run_at and await world.queued() == 0
    world.clock.skip(timedelta(hours=1, seconds=1))
    assert (await world.run()).jobs == 1
    assert await world.queued() == 20


async def test_a_job_cancelled_between_runs_is_not_read_further_and_its_items_are_skipped(
    world: World,
) -> None:
    job = await world.create(leads_file(1200))
    await world.run()
    assert (await world.upload(job.job_id)).rows == 500
    await world.service.cancel_job(WS, job.job_id)
    reads = len(world.blobs.reads)
    await world.run()
    cancelled = await world.job(job.job_id)
    assert (cancelled.status, cancelled.due_at, cancelled.counters.total) == (JobStatus.CANCELLED, None, 500)
    assert len(world.blobs.reads) == reads
    assert await world.queued() > 0  # its items' messages, for the processor to skip them


async def test_a_job_cancelled_while_its_file_is_read_stops_after_the_page(world: World) -> None:
    job = await world.create(leads_file(1800))
    cancelling = CancelAfterAppend(world.store, world.service)
    await world.run(UploadLoader(cast(JobStore, cancelling), world.blobs, world.clock), seconds=30)
    cancelled = await world.job(job.job_id)
    assert (cancelled.status, cancelled.counters.total, cancelled.due_at) == (JobStatus.CANCELLED, 500, None)
    assert (await world.upload(job.job_id)).state == "loading"  # as it stood: nothing more was read


async def test_a_paused_job_waits_and_goes_on_once_resumed(world: World) -> None:
    job = await world.create(leads_file(1200))
    await world.run()
    await world.service.pause_job(WS, job.job_id)
    world.clock.skip(timedelta(seconds=1))
    await world.run()
    paused = await world.job(job.job_id)
    assert paused.status is JobStatus.PAUSED and paused.due_at is not None
    assert paused.due_at > world.clock() + PAUSED_RECHECK - timedelta(seconds=5)
    await world.service.resume_job(WS, job.job_id)
    world.clock.skip(PAUSED_RECHECK)
    while (await world.upload(job.job_id)).state == "loading":
        await world.run()
    assert len(await world.items(job.job_id)) == 1200


async def test_the_processor_reads_due_uploads_then_releases_them(world: World) -> None:
    job = await world.create(leads_file(600))
    settings = ProcessorSettings(budget_seconds=20.0, min_item_seconds=1.0)
    processor = Processor(
        world.store, world.queue, NoEnricher(), settings, clock=world.clock, blobs=world.blobs
    )
    report = await processor.drain(receive=False)
    assert report.released_jobs == 1
    assert (await world.upload(job.job_id)).rows == 600
    assert await world.queued() == DEFAULT_WINDOW


# --- test doubles around the real store and blobs -----------------------------------------------------------


class CrashOnce:
    """The store, but its `at`-th update_job raises as if the processor died there."""

    def __init__(self, store: JobStore, at: int) -> None:
        self.inner, self.at, self.calls, self.crashed = store, at, 0, False

    async def update_job(self, *args: Any, **kwargs: Any) -> Job | None:
        self.calls += 1
        if self.calls == self.at:
            self.crashed = True
            raise ConnectionError("the processor died here")
        return await self.inner.update_job(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CancelAfterAppend:
    """The store, but the caller cancels the job right after its first page is appended."""

    def __init__(self, store: JobStore, service: JobService) -> None:
        self.inner, self.service, self.done = store, service, False

    async def append_items(self, job: Job, items: Sequence[Item]) -> None:
        await self.inner.append_items(job, items)  # type: ignore[attr-defined]
        if not self.done:
            self.done = True
            await self.service.cancel_job(job.workspace_id, job.job_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class GatedBlobs(DictBlobStore):
    """Its first read waits until the test releases it."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        super().__init__(objects)
        self.entered, self.release = asyncio.Event(), asyncio.Event()

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
        return await super().read_range(key, start, length)


class NoEnricher:
    async def enrich(self, lead: Lead, *args: Any) -> EnrichmentResult:
        raise AssertionError("no item runs in these tests")
