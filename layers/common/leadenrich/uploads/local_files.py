"""The object store of the laptop stack (`uploads.ports.BlobStore`): files under a folder of the state
directory, and presigned URLs the local gateway serves (`PUT` and `GET /_blobs/{key}`), since there is no S3
there.

A URL is `{base_url}/_blobs/{key}?expires=..&size=..&type=..&sig=..` (a GET's has `filename` instead of
size and type): `sig` is an HMAC-SHA256, under the stack's secret, of the method, key, expiry, size, type
and filename, so changing any of them (a larger size, another key, a later expiry) breaks it. The gateway
calls `verify` and then `receive` (a PUT: exactly the signed size and type, streamed to disk a chunk at a
time) or serves the file (a GET); `BlobRefused` is what it answers otherwise (403, 413), in the API's error
model. As S3 does, the URL is the credential: no API key goes with it.

Keys are the service's own (`uploads/<workspace>/<id>.csv`, `exports/...`): each `/`-separated segment
starts with a letter or digit and holds letters, digits, `.`, `_` and `-`, so no key can be `..`, absolute
or hidden, and none leaves the folder. A write goes to a temporary file beside its target, then is
renamed over it: a key holds a whole file or none. Files and folders are readable by their owner only
(they hold names and addresses).

Multipart uploads (an export written across requests) keep their parts as files in a hidden folder,
`.multipart/<upload_id>/`, which no key can name: each part is written whole (a temporary file renamed),
and completing one writes the parts' concatenation to the key as any write does, then drops the folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlencode

from leadenrich.uploads.export import attachment

BLOB_PREFIX = "/_blobs/"  # the gateway's path for them
MAX_KEY_LENGTH = 1024  # as S3's
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
_KEY = re.compile(rf"{_SEGMENT}(/{_SEGMENT})*")
MULTIPART_DIR = (
    ".multipart"  # under the root; no key names it (a key's segments start with a letter or digit)
)
MAX_PARTS = 10_000  # as S3's
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")

Method = Literal["PUT", "GET"]


class BlobRefused(Exception):
    """A presigned request the store refuses: `status` (403, 404, 413, 400), the `field` it is about
    (`query.sig`, `header.content-length`...), and a message for the caller."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True)
class BlobGrant:
    """What a verified URL allows: a PUT of exactly `size` bytes of `content_type`, or a GET saved as
    `filename`."""

    method: Method
    key: str
    size: int | None = None
    content_type: str | None = None
    filename: str | None = None


def valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_LENGTH and _KEY.fullmatch(key) is not None


class FileBlobStore:
    """`root`: the folder; `base_url`: where the gateway serving `/_blobs` listens (only presigning uses it:
    the gateway's own store verifies and serves); `secret`: the URLs' HMAC key."""

    def __init__(
        self, root: Path | str, base_url: str, secret: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the blob secret must be at least 16 characters")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self._secret = secret.encode("utf-8")
        self._clock = clock

    # --- presigned URLs ----------------------------------------------------------------------------------

    async def presign_put(self, key: str, *, size: int, content_type: str, expires_in: int) -> str:
        return self._url("PUT", key, expires_in, {"size": str(size), "type": content_type})

    async def presign_get(self, key: str, *, expires_in: int, filename: str) -> str:
        return self._url("GET", key, expires_in, {"filename": filename})

    def _url(self, method: Method, key: str, expires_in: int, params: dict[str, str]) -> str:
        self.path(key)  # a key that could not be served is refused here, not at the gateway
        if not self.base_url:
            raise RuntimeError("this store has no base_url: it verifies URLs, it cannot make them")
        expires = int(self._clock()) + expires_in
        signed = {"expires": str(expires), **params}
        signed["sig"] = self._signature(method, key, signed)
        return f"{self.base_url}{BLOB_PREFIX}{quote(key)}?{urlencode(signed)}"

    def _signature(self, method: str, key: str, params: Mapping[str, str]) -> str:
        parts = [method, key, *(params.get(name, "") for name in ("expires", "size", "type", "filename"))]
        return hmac.new(self._secret, "\n".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()

    def verify(
        self, method: str, key: str, query: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> BlobGrant:
        """The grant of a presigned request, or BlobRefused: 403 for a key that is no key, a URL altered,
        expired, or sent with another method, type or size than signed (413 when larger). `headers`
        (a PUT's, names lower-case) must carry the signed Content-Length and Content-Type."""
        method = method.upper()
        if not valid_key(key):
            raise BlobRefused(403, "not a valid object key", "path.key")
        given = query.get("sig") or ""
        if method not in ("PUT", "GET") or not hmac.compare_digest(
            given, self._signature(method, key, query)
        ):
            raise BlobRefused(
                403, "the URL's signature does not match: use the URL as it was given", "query.sig"
            )
        try:
            expires = int(query.get("expires") or "")
        except ValueError:
            raise BlobRefused(403, "the URL has no valid expiry", "query.expires") from None
        if self._clock() > expires:
            raise BlobRefused(403, "the URL has expired: ask for a new one", "query.expires")
        if method == "GET":
            return BlobGrant("GET", key, filename=query.get("filename") or None)
        size, content_type = int(query["size"]), query.get("type") or ""
        headers = headers or {}
        length = headers.get("content-length")
        if length is None or not length.isdigit():
            raise BlobRefused(
                403, f"send Content-Length: {size}, as the URL was signed", "header.content-length"
            )
        if int(length) > size:
            raise BlobRefused(
                413,
                f"the body is larger than the {size} bytes the URL was signed for",
                "header.content-length",
            )
        if int(length) != size:
            raise BlobRefused(
                403,
                f"Content-Length must be {size}, the size the URL was signed for",
                "header.content-length",
            )
        if (headers.get("content-type") or "").strip() != content_type:
            raise BlobRefused(
                403, f"Content-Type must be {content_type}, as the URL was signed", "header.content-type"
            )
        return BlobGrant("PUT", key, size=size, content_type=content_type)

    # --- the files ---------------------------------------------------------------------------------------

    def path(self, key: str) -> Path:
        """The file of `key` (ValueError for a key that is none)."""
        if not valid_key(key):
            raise ValueError(f"not a valid object key: {key[:80]!r}")
        return self.root / key

    async def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError(f"read_range: start {start} and length {length} must not be negative")
        try:
            with self.path(key).open("rb") as handle:
                handle.seek(start)
                return handle.read(length)
        except FileNotFoundError:
            raise KeyError(key) from None

    async def write(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        return await self._store(key, chunks, None)

    async def receive(self, key: str, chunks: AsyncIterator[bytes], size: int) -> int:
        """A verified PUT's body: exactly `size` bytes (413 past it, 400 when short), kept only whole."""
        return await self._store(key, chunks, size)

    async def _store(self, key: str, chunks: AsyncIterator[bytes], size: int | None) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(8)}.partial")
        written = 0
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                async for chunk in chunks:
                    written += len(chunk)
                    if size is not None and written > size:
                        raise BlobRefused(
                            413, f"the body is larger than the {size} bytes the URL was signed for"
                        )
                    handle.write(chunk)
            if size is not None and written != size:
                raise BlobRefused(400, f"the body ended after {written} of its {size} bytes")
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return written

    async def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    # --- multipart uploads -------------------------------------------------------------------------------

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        """The folder of `key`'s upload `upload_id`; KeyError when there is none (or it is another key's)."""
        self.path(key)
        folder = self.root / MULTIPART_DIR / upload_id
        try:
            if _UPLOAD_ID.fullmatch(upload_id) and (folder / "key").read_text(encoding="utf-8") == key:
                return folder
        except FileNotFoundError:
            pass
        raise KeyError(upload_id)

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        self.path(key)
        upload_id = secrets.token_hex(16)
        uploads = self.root / MULTIPART_DIR
        uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
        (uploads / upload_id).mkdir(mode=0o700)
        _write_whole(uploads / upload_id / "key", key.encode("utf-8"))
        return upload_id

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        if not 1 <= number <= MAX_PARTS:
            raise ValueError(f"part number {number}: 1 to {MAX_PARTS}")
        _write_whole(self._upload_dir(key, upload_id) / f"{number:05d}.part", data)
        return _etag(data)

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        folder = self._upload_dir(key, upload_id)
        numbers = [number for number, _ in parts]
        if not numbers or numbers != sorted(set(numbers)):
            raise ValueError("complete_multipart: at least one part, in ascending order of number")

        async def chunks() -> AsyncIterator[bytes]:
            for number, etag in parts:
                try:
                    data = (folder / f"{number:05d}.part").read_bytes()
                except FileNotFoundError:
                    raise ValueError(f"part {number} was not uploaded") from None
                if _etag(data) != etag:
                    raise ValueError(f"part {number}: the ETag does not match the part stored")
                yield data

        await self._store(key, chunks(), None)
        shutil.rmtree(folder, ignore_errors=True)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            folder = self._upload_dir(key, upload_id)
        except KeyError:
            return
        shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def disposition(grant: BlobGrant) -> str:
        """The `Content-Disposition` a GET is served with."""
        return attachment(grant.filename or grant.key.rpartition("/")[2])


def _write_whole(path: Path, data: bytes) -> None:
    """`data` at `path`, whole or not at all (a temporary file beside it, renamed), owner-only."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _etag(data: bytes) -> str:
    """S3's ETag of a part: the quoted MD5 of its bytes."""
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def new_secret() -> str:
    """A secret for a new state (hex, 256 bits)."""
    return secrets.token_hex(32)


__all__ = ["BLOB_PREFIX", "BlobGrant", "BlobRefused", "FileBlobStore", "new_secret", "valid_key"]
