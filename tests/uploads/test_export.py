"""A job's items as a CSV (`uploads.export`) and the upload service over an object store held in a dict: the
file is written a page at a time, in item order, from the cursors the pages give; an unknown job writes
nothing; an upload's size and the store's presence are checked before a URL is made."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from leadenrich.engine.models import Lead
from leadenrich.jobs.errors import JobNotFound, NotConfigured, RequestRejected
from leadenrich.jobs.models import Item, ItemStatus
from leadenrich.jobs.views import ItemView
from leadenrich.uploads.export import CSV_COLUMNS, ExportIncomplete, ItemsCsv, attachment, excel_safe
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


async def test_the_csv_is_written_a_page_per_chunk_in_item_order() -> None:
    pages = Pages()
    export = ItemsCsv(pages)
    chunks = [chunk async for chunk in export.chunks()]
    assert pages.asked == [None, "1", "2"] and len(chunks) == 3 and export.rows == 6
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"))))
    assert rows[0][0] == "\ufeffitem_id" and tuple(rows[0])[1:] == CSV_COLUMNS[1:]
    assert [r[0] for r in rows[1:]] == [f"{n:06d}" for n in range(6)]
    external = CSV_COLUMNS.index("external_id")
    assert [r[external] for r in rows[1:3]] == ["'-0x", "+1"]  # a formula quoted, a number left alone


async def test_an_export_past_its_time_reads_no_further_page_and_keeps_nothing() -> None:
    pages = Pages()
    store = DictBlobStore()
    with pytest.raises(ExportIncomplete, match="after 0 rows"):
        await UploadService(store).export_job("ws", "job_1", pages, stop_at=time.monotonic() - 1)
    assert pages.asked == [] and store.objects == {}
    export = ItemsCsv(pages, stop_at=time.monotonic() + 3600)
    assert len([chunk async for chunk in export.chunks()]) == 3


async def test_an_unknown_job_writes_nothing() -> None:
    async def missing(cursor: str | None) -> tuple[Sequence[ItemView], str | None]:
        raise JobNotFound("job_x")

    store = DictBlobStore()
    with pytest.raises(JobNotFound):
        await UploadService(store).export_job("ws", "job_x", missing)
    assert store.objects == {}


async def test_the_service_exports_to_the_workspaces_prefix_and_grants_uploads_within_the_limit() -> None:
    store = DictBlobStore()
    service = UploadService(store, max_bytes=100, clock=lambda: NOW)
    exported = await service.export_job("ws", "job_1", Pages())
    (key,) = store.objects
    assert key.startswith("exports/ws/job_1/") and exported.size == len(store.objects[key])
    assert exported.rows == 6 and exported.url.endswith("filename=job_1.csv") and exported.expires_at > NOW
    grant = await service.create_upload("ws", 100, "text/csv")
    assert grant.url == f"memory://put/uploads/ws/{grant.upload_id}.csv?size=100"
    with pytest.raises(RequestRejected) as refused:
        await service.create_upload("ws", 101, "text/csv")
    assert refused.value.field == "size_bytes"
    with pytest.raises(NotConfigured):
        await UploadService(None).create_upload("ws", 1, "text/csv")


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
