"""The object store that holds uploaded files and exported results: S3 deployed
(`leadenrich.aws.s3_blobs.S3BlobStore`), files under the state directory on a laptop
(`leadenrich.uploads.local_files.FileBlobStore`). Keys are the service's own; callers never choose them.

The multipart calls are S3's, so an export can be written across several requests (`uploads.export_writer`):
every part but the last must be at least 5 MiB on S3, a part stored again under its number replaces it, and
nothing is at the key until `complete_multipart`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol


class BlobStore(Protocol):
    async def presign_put(self, key: str, *, size: int, content_type: str, expires_in: int) -> str:
        """A URL that accepts one PUT of exactly `size` bytes of `content_type` at `key` until it expires."""
        ...

    async def presign_get(self, key: str, *, expires_in: int, filename: str) -> str:
        """A URL that serves the object at `key` (as an attachment named `filename`) until it expires."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored object's size in bytes; None when there is none."""
        ...

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to `length` bytes from `start` (fewer at the end, b"" past it). Raises KeyError when missing."""
        ...

    async def write(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        """Store the concatenated chunks at `key` in bounded memory (S3: a multipart upload); returns the
        bytes written. Nothing is left at `key` when it fails."""
        ...

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        """A new multipart upload to `key`; its upload id."""
        ...

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Store part `number` (1 to 10,000; again: replaces it) of the upload; its ETag. KeyError when the
        upload is unknown (never started, completed, aborted)."""
        ...

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        """The object at `key` made of `parts` ((number, ETag), ascending), whole or not at all. KeyError when
        the upload is unknown (a completed one may be: the caller checks the object)."""
        ...

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; no error when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; no error when there is none."""
        ...
