"""An object store held in a dict: the `BlobStore` port for tests of what reads uploads (the loader, job
creation), with the reads it served counted; multipart uploads as dicts of parts. The real adapters (S3 on
moto, files) have their own tests."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field


@dataclass
class DictBlobStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    reads: list[tuple[str, int, int]] = field(default_factory=list)  # (key, start, length) per read_range
    uploads: dict[str, tuple[str, dict[int, bytes]]] = field(default_factory=dict)  # id -> (key, parts)

    async def presign_put(self, key: str, *, size: int, content_type: str, expires_in: int) -> str:
        return f"memory://put/{key}?size={size}"

    async def presign_get(self, key: str, *, expires_in: int, filename: str) -> str:
        return f"memory://get/{key}?filename={filename}"

    async def size(self, key: str) -> int | None:
        data = self.objects.get(key)
        return len(data) if data is not None else None

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        self.reads.append((key, start, length))
        return self.objects[key][start : start + length]  # KeyError when missing, as the port says

    async def write(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        data = b"".join([chunk async for chunk in chunks])
        self.objects[key] = data
        return len(data)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        upload_id = secrets.token_hex(16)
        self.uploads[upload_id] = (key, {})
        return upload_id

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        named, parts = self.uploads[upload_id]  # KeyError when unknown, as the port says
        assert named == key
        parts[number] = data
        return hashlib.md5(data, usedforsecurity=False).hexdigest()

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        named, stored = self.uploads.pop(upload_id)
        assert named == key
        self.objects[key] = b"".join(stored[number] for number, _ in parts)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
