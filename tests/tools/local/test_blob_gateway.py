"""The laptop stack's object store (`uploads.local_files.FileBlobStore`) behind the local gateway's
`PUT` and `GET /_blobs/{key}`, over real loopback HTTP: a presigned URL works as signed and only so (a
wrong size or type, an expired or altered URL, a `..` key are refused in the API's error model, and
nothing is kept), the file is kept whole or not at all, and the store reads ranges, sizes and deletes."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from enrich_tools.local.gateway import Gateway, create_app
from leadenrich.uploads.local_files import BlobRefused, FileBlobStore, new_secret
from leadenrich.uploads.ports import BlobStore

KEY = "uploads/ws-1/upl_0123456789abcdef0123456789abcdef.csv"
BODY = b"domain,first_name\nacme.com,Ada\nglobex.io,Bob\n"
CSV = {"Content-Type": "text/csv"}


def no_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise AssertionError("a /_blobs request reached the API function")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FileBlobStore, Path]]:
    """The gateway serving the files under tmp_path/blobs; the store the handlers presign with."""
    root, secret = tmp_path / "blobs", new_secret()
    app = create_app(no_function, blobs=FileBlobStore(root, "", secret))
    with Gateway(app) as gateway:
        yield FileBlobStore(root, gateway.url, secret), root


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def refused(response: httpx.Response, status: int, field: str | None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "field", "errors"} and body["field"] == field and body["message"]


def test_it_is_a_blob_store(tmp_path: Path) -> None:
    checked: BlobStore = FileBlobStore(tmp_path, "http://127.0.0.1:1", new_secret())
    assert checked is not None


async def test_a_signed_upload_is_kept_and_a_signed_download_serves_it(
    served: tuple[FileBlobStore, Path],
) -> None:
    """Given a PUT URL for the body's exact size, the PUT (streamed in chunks) is stored owner-only; a GET
    URL serves it as a CSV attachment; the store reads its size and ranges and deletes it."""
    store, root = served
    url = await store.presign_put(KEY, size=len(BODY), content_type="text/csv", expires_in=900)
    assert url.startswith(f"{store.base_url}/_blobs/{KEY}?expires=")

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(BODY), 7):
            yield BODY[start : start + 7]

    async with httpx.AsyncClient() as http:
        put = await http.put(url, content=body(), headers={**CSV, "Content-Length": str(len(BODY))})
        assert put.status_code == 200, put.text
        got = await http.get(await store.presign_get(KEY, expires_in=60, filename="job_1.csv"))
    assert got.status_code == 200 and got.content == BODY
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == 'attachment; filename="job_1.csv"'
    file = root / KEY
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and list(file.parent.iterdir()) == [file]
    assert await store.size(KEY) == len(BODY) and await store.read_range(KEY, 7, 10) == BODY[7:17]
    assert await store.read_range(KEY, len(BODY), 10) == b""
    await store.delete(KEY)
    await store.delete(KEY)
    assert await store.size(KEY) is None
    with pytest.raises(KeyError):
        await store.read_range(KEY, 0, 1)


async def test_a_wrong_size_type_or_method_is_refused_and_nothing_is_kept(
    served: tuple[FileBlobStore, Path],
) -> None:
    """Given a URL signed for the body's size and text/csv: a shorter body is a 403 naming the length, a
    longer one a 413, another type a 403 naming it, a GET with the PUT's URL and a DELETE refused; no
    file is left."""
    store, root = served
    url = await store.presign_put(KEY, size=len(BODY), content_type="text/csv", expires_in=900)
    async with httpx.AsyncClient() as http:
        refused(await http.put(url, content=BODY[:-1], headers=CSV), 403, "header.content-length")
        refused(await http.put(url, content=BODY + b"x", headers=CSV), 413, "header.content-length")
        other = {"Content-Type": "application/octet-stream"}
        refused(await http.put(url, content=BODY, headers=other), 403, "header.content-type")
        refused(await http.get(url), 403, "query.sig")
        deleted = await http.delete(url)
        refused(deleted, 405, None)
        assert deleted.headers["allow"] == "GET, PUT"
    assert not (root / KEY).exists()


async def test_an_expired_or_altered_url_or_a_key_that_is_none_is_refused(
    served: tuple[FileBlobStore, Path],
) -> None:
    """Given valid URLs, changing the size, the expiry or the key breaks the signature (403 naming
    `query.sig`), an expired URL is a 403 naming `query.expires`, a `..` key a 403 naming the path, a
    download of nothing a 404; and the store makes no URL for a key that is none."""
    store, root = served
    url = await store.presign_put(KEY, size=len(BODY), content_type="text/csv", expires_in=900)
    expired = await store.presign_put(KEY, size=len(BODY), content_type="text/csv", expires_in=-1)
    later = str(int(dict(parse_qsl(urlsplit(url).query))["expires"]) + 3600)
    async with httpx.AsyncClient() as http:
        refused(await http.put(expired, content=BODY, headers=CSV), 403, "query.expires")
        bigger = with_query(url, size=str(len(BODY) + 1))
        refused(await http.put(bigger, content=BODY + b"x", headers=CSV), 403, "query.sig")
        refused(await http.put(with_query(url, expires=later), content=BODY, headers=CSV), 403, "query.sig")
        moved = url.replace("/ws-1/", "/ws-2/")
        refused(await http.put(moved, content=BODY, headers=CSV), 403, "query.sig")
        escape = url.replace("/ws-1/", "/ws-1/%2e%2e/%2e%2e/")
        refused(await http.put(escape, content=BODY, headers=CSV), 403, "path.key")
        missing = await store.presign_get("exports/ws-1/job_1/none.csv", expires_in=60, filename="x.csv")
        refused(await http.get(missing), 404, None)
    assert files_under(root) == []
    for key in ("../etc/passwd", "uploads/../x.csv", "/abs.csv", "uploads/.hidden", "a//b", ""):
        with pytest.raises(ValueError, match="not a valid object key"):
            await store.presign_put(key, size=1, content_type="text/csv", expires_in=60)


async def test_a_body_that_ends_short_or_runs_long_is_not_kept(tmp_path: Path) -> None:
    """Given a receive for 10 bytes, a body of 9 is refused (400) and one of 11 (413), each leaving neither
    the file nor a partial one; a failing source leaves nothing either."""
    store = FileBlobStore(tmp_path, "http://127.0.0.1:1", new_secret())

    async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
        for part in parts:
            await asyncio.sleep(0)
            yield part

    async def failing() -> AsyncIterator[bytes]:
        yield b"12345"
        raise ConnectionResetError("the client went away")

    with pytest.raises(BlobRefused) as short:
        await store.receive(KEY, chunks(b"12345", b"6789"), 10)
    assert short.value.status == 400
    with pytest.raises(BlobRefused) as long:
        await store.receive(KEY, chunks(b"12345", b"678901"), 10)
    assert long.value.status == 413
    with pytest.raises(ConnectionResetError):
        await store.write(KEY, failing(), content_type="text/csv")
    assert files_under(tmp_path) == []
    assert await store.receive(KEY, chunks(b"12345", b"67890"), 10) == 10
    assert (tmp_path / KEY).read_bytes() == b"1234567890"
