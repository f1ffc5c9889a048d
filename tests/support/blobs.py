"""An object store held in a dict: the `BlobStore` port for tests of what reads uploads (the loader, job
creation), with the reads it served counted. The real adapters (S3 on moto, files) have their own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class DictBlobStore:
    objects: dict[str, bytes] = field(default_factory=dict)
    reads: list[tuple[str, int, int]] = field(default_factory=list)  # (key, start, length) per read_range

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
