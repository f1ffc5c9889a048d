"""Uploads and exports: where a caller may PUT a CSV (`POST /uploads`), and a job's results written as a CSV
it may GET (`POST /jobs/{job_id}/exports`). Both hand out presigned URLs of the deployment's object store
(`ports.BlobStore`), so the files never pass through the API's 6 MB bodies; without a store both are
`NotConfigured` (501).

An upload is nothing but its key until a job is made from it (`POST /jobs {"upload_id"}`): the key is
under the caller's workspace (`models.upload_key`), so another workspace's upload_id names no file of
theirs. The size asked for is signed into the URL: the store accepts that many bytes and no other.

An export is written across requests (`export_writer`): each request gets `export_seconds` (when set) and
never more than the invocation's `deadline`, then answers how far the file is; its state object is under
the workspace and the job too, so another workspace's export_id is not found.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from leadenrich.jobs.errors import NotConfigured, RequestRejected
from leadenrich.uploads.export import ItemPages, export_key, new_export_id
from leadenrich.uploads.export_writer import (
    MIN_PART_BYTES,
    Advanced,
    ExportNotFound,
    ExportProgress,
    ExportWriter,
)
from leadenrich.uploads.models import upload_key
from leadenrich.uploads.ports import BlobStore

UPLOAD_EXPIRES_SECONDS = 15 * 60
EXPORT_EXPIRES_SECONDS = 15 * 60
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_UPLOAD_BYTES_LIMIT = 5 * 1024**3  # S3 takes at most 5 GiB in one PUT
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")  # a job id that can be part of a key
NOT_CONFIGURED = (
    "uploads and exports need an object store, which this deployment is not configured for "
    "(UPLOAD_BUCKET; locally the stack's own)"
)


def new_upload_id() -> str:
    return f"upl_{secrets.token_hex(16)}"


@dataclass(frozen=True)
class UploadGrant:
    upload_id: str
    url: str
    size: int
    content_type: str
    expires_at: datetime
    max_bytes: int


@dataclass(frozen=True)
class ExportStatus:
    """An export as a route answers it: `url` and `expires_at` once `ready` (a fresh URL each time)."""

    export_id: str
    job_id: str
    state: str
    rows: int
    size: int
    rows_added: int
    url: str | None = None
    expires_at: datetime | None = None


class UploadService:
    def __init__(
        self,
        blobs: BlobStore | None,
        max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        export_part_bytes: int = MIN_PART_BYTES,
        export_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.export_part_bytes = export_part_bytes
        self.export_seconds = export_seconds  # a request's share of time for an export; None: its deadline
        self._clock = clock
        self._monotonic = monotonic

    def _store(self) -> BlobStore:
        if self.blobs is None:
            raise NotConfigured(NOT_CONFIGURED)
        return self.blobs

    async def create_upload(self, workspace_id: str, size_bytes: int, content_type: str) -> UploadGrant:
        """A new upload_id and the URL that takes exactly `size_bytes` of `content_type` for it."""
        blobs = self._store()
        if size_bytes > self.max_bytes:
            raise RequestRejected("size_bytes", f"at most {self.max_bytes} bytes in this deployment")
        upload_id = new_upload_id()
        expires_at = self._clock() + timedelta(seconds=UPLOAD_EXPIRES_SECONDS)
        url = await blobs.presign_put(
            upload_key(workspace_id, upload_id),
            size=size_bytes,
            content_type=content_type,
            expires_in=UPLOAD_EXPIRES_SECONDS,
        )
        return UploadGrant(upload_id, url, size_bytes, content_type, expires_at, self.max_bytes)

    def _writer(self) -> ExportWriter:
        return ExportWriter(
            self._store(), min_part_bytes=self.export_part_bytes, clock=self._monotonic, now=self._clock
        )

    def _stop_at(self, deadline: float | None) -> float:
        share = self._monotonic() + self.export_seconds if self.export_seconds is not None else math.inf
        return min(share, math.inf if deadline is None else deadline)

    async def start_export(
        self, workspace_id: str, job_id: str, pages: ItemPages, *, deadline: float | None = None
    ) -> ExportStatus:
        """A new export of the job's items as `pages` reads them (the items route's read: JobNotFound for
        another workspace's job, before anything is stored), written as far as this request's time goes
        (`deadline`: monotonic, the invocation's)."""
        writer = self._writer()
        progress = writer.new(job_id, new_export_id())
        advanced = await writer.advance(workspace_id, progress, pages, stop_at=self._stop_at(deadline))
        return await self._status(workspace_id, advanced)

    async def continue_export(
        self,
        workspace_id: str,
        job_id: str,
        export_id: str,
        pages: ItemPages,
        *,
        deadline: float | None = None,
    ) -> ExportStatus:
        """The export written further from its last whole part (a ready one as it is, with a fresh URL);
        ExportNotFound when the workspace's job has none of that id."""
        writer = self._writer()
        progress = await self._load(writer, workspace_id, job_id, export_id)
        advanced = await writer.advance(workspace_id, progress, pages, stop_at=self._stop_at(deadline))
        return await self._status(workspace_id, advanced)

    async def export_status(self, workspace_id: str, job_id: str, export_id: str) -> ExportStatus:
        """How far the export is (a fresh URL when ready); ExportNotFound as `continue_export`."""
        writer = self._writer()
        progress = await self._load(writer, workspace_id, job_id, export_id)
        return await self._status(workspace_id, Advanced(progress, 0))

    @staticmethod
    async def _load(writer: ExportWriter, workspace_id: str, job_id: str, export_id: str) -> ExportProgress:
        if not _KEY_SEGMENT.fullmatch(job_id):  # no job has such an id, and no key can hold it
            raise ExportNotFound(export_id)
        return await writer.load(workspace_id, job_id, export_id)

    async def _status(self, workspace_id: str, advanced: Advanced) -> ExportStatus:
        progress = advanced.progress
        status = ExportStatus(
            progress.export_id,
            progress.job_id,
            progress.state,
            progress.rows,
            progress.bytes,
            advanced.rows_added,
        )
        if progress.state != "ready":
            return status
        key = export_key(workspace_id, progress.job_id, progress.export_id)
        url = await self._store().presign_get(
            key, expires_in=EXPORT_EXPIRES_SECONDS, filename=f"{progress.job_id}.csv"
        )
        expires_at = self._clock() + timedelta(seconds=EXPORT_EXPIRES_SECONDS)
        return replace(status, url=url, expires_at=expires_at)


__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "EXPORT_EXPIRES_SECONDS",
    "MAX_UPLOAD_BYTES_LIMIT",
    "UPLOAD_EXPIRES_SECONDS",
    "ExportNotFound",
    "ExportStatus",
    "UploadGrant",
    "UploadService",
    "new_upload_id",
]
