"""Uploads and exports: where a caller may PUT a CSV (`POST /uploads`), and a job's results written as a CSV
it may GET (`POST /jobs/{job_id}/exports`). Both hand out presigned URLs of the deployment's object store
(`ports.BlobStore`), so the files never pass through the API's 6 MB bodies; without a store both are
`NotConfigured` (501).

An upload is nothing but its key until a job is made from it (`POST /jobs {"upload_id"}`): the key is
under the caller's workspace (`models.upload_key`), so another workspace's upload_id names no file of
theirs. The size asked for is signed into the URL: the store accepts that many bytes and no other.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadenrich.jobs.errors import NotConfigured, RequestRejected
from leadenrich.uploads.export import CONTENT_TYPE, ItemPages, ItemsCsv, export_key
from leadenrich.uploads.models import upload_key
from leadenrich.uploads.ports import BlobStore

UPLOAD_EXPIRES_SECONDS = 15 * 60
EXPORT_EXPIRES_SECONDS = 15 * 60
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_UPLOAD_BYTES_LIMIT = 5 * 1024**3  # S3 takes at most 5 GiB in one PUT
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
class ExportedFile:
    url: str
    expires_at: datetime
    rows: int
    size: int


class UploadService:
    def __init__(
        self,
        blobs: BlobStore | None,
        max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.blobs = blobs
        self.max_bytes = max_bytes
        self._clock = clock

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

    async def export_job(
        self, workspace_id: str, job_id: str, pages: ItemPages, *, stop_at: float | None = None
    ) -> ExportedFile:
        """The job's items, as `pages` reads them (the items route's read: JobNotFound for another
        workspace's job, before anything is written), into a new CSV, and a URL to download it.
        ExportIncomplete, with nothing kept, when the pages are not all read by `stop_at` (monotonic)."""
        blobs = self._store()
        items = ItemsCsv(pages, stop_at)
        key = export_key(workspace_id, job_id)
        size = await blobs.write(key, items.chunks(), content_type=CONTENT_TYPE)
        expires_at = self._clock() + timedelta(seconds=EXPORT_EXPIRES_SECONDS)
        url = await blobs.presign_get(key, expires_in=EXPORT_EXPIRES_SECONDS, filename=f"{job_id}.csv")
        return ExportedFile(url, expires_at, items.rows, size)


__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "EXPORT_EXPIRES_SECONDS",
    "MAX_UPLOAD_BYTES_LIMIT",
    "UPLOAD_EXPIRES_SECONDS",
    "ExportedFile",
    "UploadGrant",
    "UploadService",
    "new_upload_id",
]
