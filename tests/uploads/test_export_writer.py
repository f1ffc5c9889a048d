"""Exports written across requests (`uploads.export_writer`), on both real object stores: the laptop's files
and S3 on moto, whose smallest part is set to the writer's (moto enforces S3's rule, 5 MiB unless told:
`S3_UPLOAD_PART_MIN_SIZE`), so a part below it would fail the completion here as on S3.

Given 3,000 items in pages of 250 (about 26 KB each) and parts of 40 KiB (two pages), and a clock that
ticks a second each time it is read with a share of 2.5 s a request (three pages: a whole part and a page
dropped), an export takes six requests and makes the same bytes as one request; a request that dies after
storing a part, after saving it, after completing the upload or after saving it ready, is continued without
a row lost or repeated; another workspace's export is not found."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from leadenrich.aws.s3_blobs import S3BlobStore, s3_client
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from leadenrich.jobs.models import Item, ItemStatus
from leadenrich.jobs.views import ItemView
from leadenrich.uploads.export import export_key
from leadenrich.uploads.export_writer import ExportNotFound, ExportProgress
from leadenrich.uploads.local_files import MULTIPART_DIR, FileBlobStore
from leadenrich.uploads.ports import BlobStore
from leadenrich.uploads.service import ExportStatus, UploadService

BUCKET = "leadenrich-exports-test"
ITEMS = 3_000
PAGE = 250
PART = 40 * 1024
SHARE = 2.5  # seconds of the ticking clock: three pages a request
WS, JOB = "ws-1", "job_big"


def item(n: int) -> ItemView:
    """Every third item found (two addresses, a name with an accent), the others not found."""
    lead = Lead(domain=f"d{n}.example", first_name="Zoë", external_id=f"crm-{n}")
    if n % 3:
        return ItemView.from_item(Item(WS, JOB, f"{n:06d}", lead, status=ItemStatus.NOT_FOUND))
    at = datetime(2026, 11, 20, tzinfo=UTC)
    emails = [
        FoundEmail(
            f"{who}@d{n}.example",
            EmailSource.HUNTER_DIRECT,
            90,
            kind,
            HunterStatus.DELIVERABLE,
            EmailStatus.ACTIVE,
            at,
            Method.DOMAIN_SEARCH,
            Deliverability.VERIFIED,
            person=who.title(),
        )
        for who, kind in (("zoe", EmailType.PRIMARY), ("sam", EmailType.SECONDARY))
    ]
    record = EnrichmentResult(f"d{n}.example", LeadStatus.FOUND, emails).as_record()
    return ItemView.from_item(Item(WS, JOB, f"{n:06d}", lead, status=ItemStatus.FOUND, result=record))


VIEWS = [item(n) for n in range(ITEMS)]


class Pages:
    """The job's items, `PAGE` at a time (the cursor is the next item's index); the cursors asked."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    async def __call__(self, cursor: str | None) -> tuple[Sequence[ItemView], str | None]:
        self.asked.append(cursor)
        start = int(cursor or 0)
        end = start + PAGE
        return VIEWS[start:end], (str(end) if end < ITEMS else None)


class Tick:
    """A monotonic clock one second further each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


class Store:
    """A store under test, and how to see what it holds."""

    def __init__(self, blobs: BlobStore, unfinished: Callable[[], list[str]]) -> None:
        self.blobs = blobs
        self.unfinished = unfinished  # multipart uploads neither completed nor aborted

    async def read(self, key: str) -> bytes:
        size = await self.blobs.size(key)
        assert size is not None, key
        return await self.blobs.read_range(key, 0, size)


@pytest.fixture(params=["files", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    if request.param == "files":
        root = tmp_path / "blobs"
        files = FileBlobStore(root, "http://127.0.0.1:9", "a-test-secret-0123456789")
        yield Store(files, lambda: [p.name for p in (root / MULTIPART_DIR).glob("*")])
        return
    request.getfixturevalue("mocked_aws")
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", PART)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)

    def unfinished() -> list[str]:
        return [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]

    yield Store(S3BlobStore(BUCKET, s3_client(), serialize_calls=True), unfinished)


def service(blobs: BlobStore, *, share: float | None = SHARE) -> UploadService:
    return UploadService(blobs, export_part_bytes=PART, export_seconds=share, monotonic=Tick())


async def export_in_requests(exports: UploadService, pages: Pages) -> list[ExportStatus]:
    """Start an export and continue it until it is ready, as a client loops (sending a request that failed
    again); every answer, in order."""
    answers = [await exports.start_export(WS, JOB, pages)]
    failures = 0
    while answers[-1].state != "ready":
        assert len(answers) + failures < 100
        try:
            answers.append(await exports.continue_export(WS, JOB, answers[0].export_id, pages))
        except RuntimeError:
            failures += 1
    return answers


async def one_request(store: Store) -> bytes:
    """The export written by one request with all the time it needs."""
    whole = await service(store.blobs, share=None).start_export(WS, JOB, Pages())
    assert whole.state == "ready" and whole.rows == ITEMS
    return await store.read(export_key(WS, JOB, whole.export_id))


async def test_an_export_across_requests_is_the_same_file_as_one_written_in_one(store: Store) -> None:
    one = await one_request(store)
    pages = Pages()
    answers = await export_in_requests(service(store.blobs), pages)
    *writing, done = answers
    assert len(answers) == 6 and {a.state for a in writing} == {"writing"}
    assert [a.rows_added for a in answers] == [500] * 6  # a part a request; its third page dropped
    assert [a.rows for a in writing] == [500, 1000, 1500, 2000, 2500]
    assert pages.asked[:6] == [None, "250", "500", "500", "750", "1000"]  # the dropped page read again
    assert (done.rows, done.size) == (ITEMS, len(one)) and done.url is not None
    several = await store.read(export_key(WS, JOB, done.export_id))
    assert several == one
    rows = list(csv.DictReader(io.StringIO(several.decode("utf-8-sig"))))
    assert [r["item_id"] for r in rows] == [f"{n:06d}" for n in range(ITEMS)]
    assert (rows[3]["email"], rows[3]["first_name"], rows[3]["other_emails"]) == (
        "zoe@d3.example",
        "Zoë",
        "sam@d3.example",
    )
    saved = await store.read(f"exports/{WS}/{JOB}/{done.export_id}.json")
    state = ExportProgress.model_validate_json(saved)
    assert (state.state, len(state.parts), state.cursor, state.rows) == ("ready", 6, None, ITEMS)
    assert store.unfinished() == []


class DiesOnce:
    """The store as a request that dies once, right after one call of `method` did its work (the part
    stored, the state saved, the upload completed) when `when(key, data)` holds; a wrapper, so the real
    store keeps what the call did."""

    def __init__(self, inner: BlobStore, method: str, when: Callable[[str, bytes], bool]) -> None:
        self.inner = inner
        self.method = method
        self.when = when
        self.died = 0
        self.calls: list[tuple[str, int]] = []  # (method, part number) of the multipart calls

    def _maybe_die(self, method: str, key: str, data: bytes) -> None:
        if method == self.method and not self.died and self.when(key, data):
            self.died += 1
            raise RuntimeError(f"the request died after {method}")

    async def presign_put(self, key: str, *, size: int, content_type: str, expires_in: int) -> str:
        return await self.inner.presign_put(key, size=size, content_type=content_type, expires_in=expires_in)

    async def presign_get(self, key: str, *, expires_in: int, filename: str) -> str:
        return await self.inner.presign_get(key, expires_in=expires_in, filename=filename)

    async def size(self, key: str) -> int | None:
        return await self.inner.size(key)

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        return await self.inner.read_range(key, start, length)

    async def write(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        data = b"".join([chunk async for chunk in chunks])

        async def again() -> AsyncIterator[bytes]:
            yield data

        written = await self.inner.write(key, again(), content_type=content_type)
        self._maybe_die("write", key, data)
        return written

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        return await self.inner.start_multipart(key, content_type=content_type)

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        etag = await self.inner.put_part(key, upload_id, number, data)
        self.calls.append(("put_part", number))
        self._maybe_die("put_part", key, str(number).encode())
        return etag

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        await self.inner.complete_multipart(key, upload_id, parts)
        self.calls.append(("complete", len(parts)))
        self._maybe_die("complete_multipart", key, b"")

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        await self.inner.abort_multipart(key, upload_id)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


def saved_with(text: bytes) -> Callable[[str, bytes], bool]:
    return lambda key, data: key.endswith(".json") and text in data


@pytest.mark.parametrize(
    ("method", "when"),
    [
        ("put_part", lambda key, data: data == b"3"),  # part 3 stored, not saved
        ("write", saved_with(b'"number":2')),  # part 2 saved, the answer lost
        ("complete_multipart", lambda key, data: True),  # the file whole, its state not saved
        ("write", saved_with(b'"state":"ready"')),  # ready saved, the answer lost
    ],
    ids=["after-a-part", "after-saving-a-part", "after-completing", "after-saving-ready"],
)
async def test_a_request_that_dies_is_continued_without_a_row_lost_or_repeated(
    store: Store, method: str, when: Callable[[str, bytes], bool]
) -> None:
    one = await one_request(store)
    dying = DiesOnce(store.blobs, method, when)
    *_, done = await export_in_requests(service(dying), Pages())
    assert dying.died == 1
    assert await store.read(export_key(WS, JOB, done.export_id)) == one
    assert (done.state, done.rows, done.size) == ("ready", ITEMS, len(one))
    if method == "put_part":  # the part the dead request stored was put again, under its number
        assert dying.calls.count(("put_part", 3)) == 2
    assert store.unfinished() == []


async def test_another_workspaces_or_jobs_export_is_not_found(store: Store) -> None:
    started = await service(store.blobs).start_export(WS, JOB, Pages())
    assert (started.state, started.rows) == ("writing", 500)
    for workspace, job in (("ws-2", JOB), (WS, "job_other")):
        with pytest.raises(ExportNotFound):
            await service(store.blobs).continue_export(workspace, job, started.export_id, Pages())
        with pytest.raises(ExportNotFound):
            await service(store.blobs).export_status(workspace, job, started.export_id)
    shown = await service(store.blobs).export_status(WS, JOB, started.export_id)
    assert (shown.state, shown.rows, shown.rows_added, shown.url) == ("writing", 500, 0, None)


async def test_the_multipart_calls_replace_parts_complete_whole_and_know_their_uploads(store: Store) -> None:
    """The port's multipart calls on each store: a part put again under its number replaces it; nothing is
    at the key until the upload completes, then exactly the parts listed; an upload completed, aborted or
    never started is a KeyError to put a part to; aborting one twice is no error."""
    blobs, key = store.blobs, f"exports/{WS}/{JOB}/exp_parts.csv"
    upload = await blobs.start_multipart(key, content_type="text/csv")
    first = b"a" * PART
    await blobs.put_part(key, upload, 1, b"b" * PART)
    etags = [await blobs.put_part(key, upload, 1, first), await blobs.put_part(key, upload, 2, b"tail")]
    assert await blobs.size(key) is None and store.unfinished()
    await blobs.complete_multipart(key, upload, list(enumerate(etags, start=1)))
    assert await store.read(key) == first + b"tail" and store.unfinished() == []
    with pytest.raises(KeyError):
        await blobs.put_part(key, upload, 3, b"late")
    aborted = await blobs.start_multipart(key, content_type="text/csv")
    await blobs.put_part(key, aborted, 1, b"x")
    await blobs.abort_multipart(key, aborted)
    await blobs.abort_multipart(key, aborted)
    with pytest.raises(KeyError):
        await blobs.put_part(key, aborted, 2, b"y")
    assert await store.read(key) == first + b"tail" and store.unfinished() == []


def test_the_stores_are_blob_stores(tmp_path: Path) -> None:
    checked: list[BlobStore] = [DiesOnce(FileBlobStore(tmp_path, "", "x" * 16), "write", lambda k, d: False)]
    assert checked
