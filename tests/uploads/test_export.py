"""A job's items as a CSV (`uploads.export`) and the upload service over an object store held in a dict: the
rows are rendered a page at a time, in item order, from the cursors the pages give; an export that fits one
request is one file and its state object; one that cannot write a whole part in its time keeps nothing new
and says so; an unknown job writes nothing; an upload's size and the store's presence are checked before a
URL is made. (Exports across requests, on the real stores: `test_export_writer.py`.)"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from leadenrich.engine.models import Lead
from leadenrich.jobs.errors import JobNotFound, NotConfigured, RequestRejected
from leadenrich.jobs.models import Item, ItemStatus
from leadenrich.jobs.views import ItemView
from leadenrich.uploads.export import CSV_COLUMNS, attachment, csv_rows, excel_safe
from leadenrich.uploads.export_writer import ExportNotFound
from leadenrich.uploads.service import UploadService
from tests.support.blobs import DictBlobStore

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def view(n: int) -> ItemView:
    lead = Lead(domain=f"d{n}.example", external_id=f"+{n}" if n % 2 else f"-{n}x")
    return ItemView.from_item(Item("ws", "job_1", f"{n:06d}", lead, status=ItemStatus.NOT_FOUND))


class Pages:
    """Three pages of two items, each answering the next page's cursor; the cursors asked, recorded."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    async def __call__(self, cursor: str | None) -> tuple[Sequence[ItemView], str | None]:
        self.asked.append(cursor)
        page = 0 if cursor is None else int(cursor)
        items = [view(2 * page), view(2 * page + 1)]
        return items, (str(page + 1) if page < 2 else None)


async def test_the_rows_are_rendered_a_page_at_a_time_in_item_order() -> None:
    pages = Pages()
    chunks: list[bytes] = []
    cursor: str | None = None
    while not chunks or cursor is not None:
        items, cursor = await pages(cursor)
        chunks.append(csv_rows(items, header=not chunks))
    assert pages.asked == [None, "1", "2"] and not chunks[1].startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"))))
    assert rows[0][0] == "\ufeffitem_id" and tuple(rows[0])[1:] == CSV_COLUMNS[1:]
    assert [r[0] for r in rows[1:]] == [f"{n:06d}" for n in range(6)]
    external = CSV_COLUMNS.index("external_id")
    assert [r[external] for r in rows[1:3]] == ["'-0x", "+1"]  # a formula quoted, a number left alone


async def test_a_request_that_cannot_write_a_whole_part_keeps_nothing_new_and_says_so() -> None:
    """Given parts larger than the whole file and no time share (one page a request), each request reads a
    page, drops it and answers `writing` with 0 rows added; the export is saved all the same, so it can be
    continued; given time, the next request writes the file whole."""
    pages = Pages()
    store = DictBlobStore()
    service = UploadService(store, clock=lambda: NOW, export_part_bytes=1 << 20, export_seconds=0)
    started = await service.start_export("ws", "job_1", pages)
    assert (started.state, started.rows, started.rows_added, started.url) == ("writing", 0, 0, None)
    assert list(store.objects) == [f"exports/ws/job_1/{started.export_id}.json"]
    again = await service.continue_export("ws", "job_1", started.export_id, pages)
    assert (again.state, again.rows, again.rows_added) == ("writing", 0, 0) and pages.asked == [None, None]
    service.export_seconds = None
    done = await service.continue_export("ws", "job_1", started.export_id, pages)
    assert (done.state, done.rows, done.rows_added) == ("ready", 6, 6) and done.url is not None
    assert store.uploads == {}  # never a whole part: one plain write, no multipart upload


async def test_an_unknown_job_or_export_writes_nothing() -> None:
    async def missing(cursor: str | None) -> tuple[Sequence[ItemView], str | None]:
        raise JobNotFound("job_x")

    store = DictBlobStore()
    service = UploadService(store)
    with pytest.raises(JobNotFound):
        await service.start_export("ws", "job_x", missing)
    for job_id in ("job_x", "../job_x", "job x"):  # and ids that could not be keys
        with pytest.raises(ExportNotFound, match="exp_0"):
            await service.continue_export("ws", job_id, "exp_0", missing)
        with pytest.raises(ExportNotFound):
            await service.export_status("ws", job_id, "exp_0")
    assert store.objects == {}


async def test_the_service_exports_to_the_workspaces_prefix_and_grants_uploads_within_the_limit() -> None:
    store = DictBlobStore()
    service = UploadService(store, max_bytes=100, clock=lambda: NOW)
    exported = await service.start_export("ws", "job_1", Pages())
    assert exported.export_id.startswith("exp_") and len(exported.export_id) == 36
    file, state = f"exports/ws/job_1/{exported.export_id}.csv", f"exports/ws/job_1/{exported.export_id}.json"
    assert set(store.objects) == {file, state} and exported.size == len(store.objects[file])
    assert exported.rows == 6 and exported.url == f"memory://get/{file}?filename=job_1.csv"
    assert exported.expires_at is not None and exported.expires_at > NOW
    saved = json.loads(store.objects[state])
    assert (saved["state"], saved["rows"], saved["bytes"], saved["job_id"]) == (
        "ready",
        6,
        exported.size,
        "job_1",
    )
    shown = await service.export_status("ws", "job_1", exported.export_id)
    assert (shown.state, shown.rows, shown.size, shown.url) == ("ready", 6, exported.size, exported.url)
    with pytest.raises(ExportNotFound):  # another workspace, another job: not found
        await service.export_status("other", "job_1", exported.export_id)
    with pytest.raises(ExportNotFound):
        await service.export_status("ws", "job_2", exported.export_id)
    grant = await service.create_upload("ws", 100, "text/csv")
    assert grant.url == f"memory://put/uploads/ws/{grant.upload_id}.csv?size=100"
    with pytest.raises(RequestRejected) as refused:
        await service.create_upload("ws", 101, "text/csv")
    assert refused.value.field == "size_bytes"
    with pytest.raises(NotConfigured):
        await UploadService(None).create_upload("ws", 1, "text/csv")
    with pytest.raises(NotConfigured):
        await UploadService(None).start_export("ws", "job_1", Pages())


def test_names_and_cells_are_safe() -> None:
    assert attachment('a "b"\r\n.csv') == 'attachment; filename="a_b_.csv"'
    assert attachment("..") == 'attachment; filename="export.csv"'
    assert [excel_safe(t) for t in ("=1+1", "@x", "-5", "+1.5", "1e5", "plain")] == [
        "'=1+1",
        "'@x",
        "-5",
        "+1.5",
        "1e5",
        "plain",
    ]
