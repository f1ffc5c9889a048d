"""A job's results CSV written across as many requests as its size needs (docs/uploads.md "Exports").

Why: one request has API Gateway's 29 s, and a 512 MB Lambda renders about 2,000 rows a second, so a job
of 100,000 items cannot be written in one. No table holds the progress: it is a small JSON object beside
the file (`export_state_key`, `ExportProgress`), holding the object store's multipart upload, the parts
written (number, ETag), the items cursor after the last whole part, the rows and bytes so far, and the
state (`writing`, `ready`).

How a request advances it (`ExportWriter.advance`): from the cursor, it reads pages of items (the items
route's read, so withholding is the same) into a buffer; each time the buffer holds `min_part_bytes` (5 MiB:
S3's smallest part but the last), it is put as the next part and the progress saved with the cursor after
that page. After each page it looks at the clock: past `stop_at` it stops, and what the buffer holds is
dropped (the next request reads those pages again from the saved cursor). At least one page is read per
request. The last page writes the rest as the final (short) part and completes the upload: the state is
`ready`. An export that never filled a part is one plain write.

A request that dies anywhere loses nothing but its unsaved pages: a part put again under its number
replaces the one a dead request left, and an upload completed by a request that died before saving is
found by the file being there. A multipart upload started by a request that died before saving its first
part is orphaned, and the bucket's lifecycle rule aborts it after a day.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadenrich.uploads.export import CONTENT_TYPE, ItemPages, csv_rows, export_key, export_state_key
from leadenrich.uploads.ports import BlobStore

MIN_PART_BYTES = 5 * 1024 * 1024  # S3: every part but the last is at least 5 MiB
MAX_STATE_BYTES = 4 * 1024 * 1024  # far above 10,000 parts (S3's most) and a cursor
STATE_CONTENT_TYPE = "application/json"
ExportStateName = Literal["writing", "ready"]


class ExportNotFound(LookupError):
    """No such export of this job in the workspace (another workspace's is not found either), or one whose
    upload has expired (the API answers 404)."""

    def __init__(self, export_id: str, *, expired: bool = False) -> None:
        reason = "has expired (exports are kept a day): start a new one" if expired else "not found"
        super().__init__(f"export {export_id} {reason}")
        self.export_id = export_id


class Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int = Field(ge=1, le=10_000)
    etag: str


class ExportProgress(BaseModel):
    """The export's state object (`exports/<workspace>/<job_id>/<export_id>.json`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    export_id: str
    job_id: str
    format: Literal["csv"] = "csv"
    state: ExportStateName = "writing"
    upload_id: str | None = None  # the object store's multipart upload, once a part was written
    parts: tuple[Part, ...] = ()
    cursor: str | None = None  # the items cursor after the last whole part; None: from the first item
    rows: int = Field(default=0, ge=0)
    bytes: int = Field(default=0, ge=0)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Advanced:
    """The export after a request, and the rows that request added."""

    progress: ExportProgress
    rows_added: int


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class ExportWriter:
    """Writes and reads exports of one object store. `min_part_bytes`: the smallest part but the last (5 MiB
    on S3; tests use less); `clock`: the monotonic clock `stop_at` is on; `now`: the state's timestamps."""

    def __init__(
        self,
        blobs: BlobStore,
        *,
        min_part_bytes: int = MIN_PART_BYTES,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if min_part_bytes < 1:
            raise ValueError("min_part_bytes must be positive")
        self.blobs = blobs
        self.min_part_bytes = min_part_bytes
        self._clock = clock
        self._now = now

    def new(self, job_id: str, export_id: str) -> ExportProgress:
        """A new export (nothing is stored until a request has read the job's first page)."""
        at = self._now()
        return ExportProgress(export_id=export_id, job_id=job_id, created_at=at, updated_at=at)

    async def load(self, workspace_id: str, job_id: str, export_id: str) -> ExportProgress:
        """The saved export; ExportNotFound when the workspace's job has none of that id."""
        try:
            data = await self.blobs.read_range(
                export_state_key(workspace_id, job_id, export_id), 0, MAX_STATE_BYTES
            )
        except KeyError:
            raise ExportNotFound(export_id) from None
        try:
            progress = ExportProgress.model_validate_json(data)
        except ValidationError as exc:  # only the service writes it: a bug or a tampered object
            raise RuntimeError(f"export {export_id}: its state object cannot be read") from exc
        if (progress.export_id, progress.job_id) != (export_id, job_id):
            raise ExportNotFound(export_id)
        return progress

    async def advance(
        self, workspace_id: str, progress: ExportProgress, pages: ItemPages, *, stop_at: float
    ) -> Advanced:
        """Write whole parts from the saved cursor until the job's last page (then `ready`) or `stop_at`
        (monotonic, looked at after each page: at least one page is read). The first page raises what
        `pages` raises for a job that is not the workspace's, before anything is stored."""
        if progress.state == "ready":
            return Advanced(progress, 0)
        start = progress
        cursor = progress.cursor
        header = not progress.parts  # the file's start goes into its first part
        buffer = bytearray()
        buffered_rows = 0
        while True:
            items, cursor = await pages(cursor)
            buffer += csv_rows(items, header=header)
            header = False
            buffered_rows += len(items)
            if cursor is None:
                progress = await self._finish(workspace_id, progress, bytes(buffer), buffered_rows)
                break
            if len(buffer) >= self.min_part_bytes:
                progress = await self._put_part(workspace_id, progress, bytes(buffer), buffered_rows, cursor)
                buffer.clear()
                buffered_rows = 0
            if self._clock() >= stop_at:
                break  # what the buffer holds is read again by the next request, from the saved cursor
        if progress is start:  # nothing new: saved all the same, so a new export can be continued
            progress = progress.model_copy(update={"updated_at": self._now()})
            await self._save(workspace_id, progress)
        return Advanced(progress, progress.rows - start.rows)

    async def _put_part(
        self, workspace_id: str, progress: ExportProgress, data: bytes, rows: int, cursor: str
    ) -> ExportProgress:
        key = export_key(workspace_id, progress.job_id, progress.export_id)
        upload_id = progress.upload_id
        if upload_id is None:
            upload_id = await self.blobs.start_multipart(key, content_type=CONTENT_TYPE)
        number = len(progress.parts) + 1
        try:
            etag = await self.blobs.put_part(key, upload_id, number, data)
        except KeyError:  # aborted by the bucket's lifecycle rule: the export outlived its day
            raise ExportNotFound(progress.export_id, expired=True) from None
        written = progress.model_copy(
            update={
                "upload_id": upload_id,
                "parts": (*progress.parts, Part(number=number, etag=etag)),
                "cursor": cursor,
                "rows": progress.rows + rows,
                "bytes": progress.bytes + len(data),
                "updated_at": self._now(),
            }
        )
        await self._save(workspace_id, written)
        return written

    async def _finish(
        self, workspace_id: str, progress: ExportProgress, data: bytes, rows: int
    ) -> ExportProgress:
        """The rest as the last part, the upload completed (or the whole file in one write), `ready`."""
        key = export_key(workspace_id, progress.job_id, progress.export_id)
        parts = progress.parts
        size = progress.bytes + len(data)
        if progress.upload_id is None:  # never a whole part: one plain write
            await self.blobs.write(key, _once(data), content_type=CONTENT_TYPE)
        else:
            try:
                if data:
                    number = len(parts) + 1
                    etag = await self.blobs.put_part(key, progress.upload_id, number, data)
                    parts = (*parts, Part(number=number, etag=etag))
                await self.blobs.complete_multipart(
                    key, progress.upload_id, [(part.number, part.etag) for part in parts]
                )
            except KeyError:  # completed by a request that died before saving it, or expired
                stored = await self.blobs.size(key)
                if stored is None:
                    raise ExportNotFound(progress.export_id, expired=True) from None
                size = stored
        ready = progress.model_copy(
            update={
                "state": "ready",
                "parts": parts,
                "cursor": None,
                "rows": progress.rows + rows,
                "bytes": size,
                "updated_at": self._now(),
            }
        )
        await self._save(workspace_id, ready)
        return ready

    async def _save(self, workspace_id: str, progress: ExportProgress) -> None:
        key = export_state_key(workspace_id, progress.job_id, progress.export_id)
        data = progress.model_dump_json().encode("utf-8")
        await self.blobs.write(key, _once(data), content_type=STATE_CONTENT_TYPE)


__all__ = [
    "MIN_PART_BYTES",
    "Advanced",
    "ExportNotFound",
    "ExportProgress",
    "ExportStateName",
    "ExportWriter",
    "Part",
]
