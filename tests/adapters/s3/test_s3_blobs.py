"""The S3 object store against moto's S3: sizes, ranged reads, writes (one PutObject when small, a multipart
upload of parts otherwise, aborted on failure so nothing is left), deletes; and its presigned URLs over real
HTTP against moto's server on loopback (a PUT with the signed headers, a GET saved under its name).

moto checks neither a presigned URL's signature nor its expiry, so what S3 enforces (exactly the signed
Content-Length and Content-Type) is checked here as what the URL signs: its `X-Amz-SignedHeaders`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from leadenrich.aws.s3_blobs import S3BlobStore, s3_client
from leadenrich.uploads.ports import BlobStore

BUCKET = "leadenrich-uploads-test"
MIB = 1024 * 1024
PART = 5 * MIB  # S3's smallest part: the tests' multipart writes stay small


async def chunks_of(data: bytes, size: int = MIB, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        if fail_after is not None and start >= fail_after:
            raise RuntimeError("the source failed")
        yield data[start : start + size]


@pytest.fixture
def s3(mocked_aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def store(s3: Any) -> S3BlobStore:
    return S3BlobStore(BUCKET, s3_client(), serialize_calls=True, part_size=PART)


def leftovers(s3: Any) -> tuple[list[str], list[str]]:
    """The bucket's objects and its multipart uploads not completed nor aborted."""
    objects = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    uploads = [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]
    return objects, uploads


def test_it_is_a_blob_store(store: S3BlobStore) -> None:
    checked: BlobStore = store
    assert checked is store


async def test_a_small_write_is_one_object_read_back_in_ranges(store: S3BlobStore, s3: Any) -> None:
    """Given nothing at a key, its size is None and reading it a KeyError; once 26 bytes are written in three
    chunks, its size is 26, ranges read back exactly, a range past the end is short, and one at or past
    the end (or of no length) is empty."""
    key = "uploads/ws-1/upl_a.csv"
    assert await store.size(key) is None
    with pytest.raises(KeyError):
        await store.read_range(key, 0, 10)
    written = await store.write(key, chunks_of(b"abcdefghijklmnopqrstuvwxyz", 10), content_type="text/csv")
    assert written == 26 and await store.size(key) == 26
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentType"] == "text/csv"
    assert await store.read_range(key, 0, 3) == b"abc"
    assert await store.read_range(key, 24, 10) == b"yz"
    assert await store.read_range(key, 26, 10) == b""
    assert await store.read_range(key, 99, 10) == b""
    assert await store.read_range(key, 5, 0) == b""
    assert leftovers(s3) == ([key], [])


async def test_a_large_write_is_a_multipart_upload_of_whole_parts(store: S3BlobStore, s3: Any) -> None:
    """Given 11 MiB in 1 MiB chunks and 5 MiB parts, the object is one multipart upload of three parts
    (5, 5 and 1 MiB), byte for byte what was written."""
    data = bytes(range(256)) * (11 * MIB // 256)
    key = "exports/ws-1/job_1/x.csv"
    assert await store.write(key, chunks_of(data), content_type="text/csv") == len(data)
    head = s3.head_object(Bucket=BUCKET, Key=key, PartNumber=1)
    assert head["PartsCount"] == 3 and head["ContentLength"] == PART
    assert await store.read_range(key, PART - 2, 4) == data[PART - 2 : PART + 2]
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    assert leftovers(s3) == ([key], [])


async def test_a_failed_write_leaves_no_object_and_no_parts(store: S3BlobStore, s3: Any) -> None:
    """Given a source that fails after two parts were uploaded, the upload is aborted: no object, no
    multipart upload; and one that fails before a part was full stores nothing either."""
    data = b"x" * (12 * MIB)
    with pytest.raises(RuntimeError, match="the source failed"):
        await store.write(
            "exports/ws-1/job_1/a.csv", chunks_of(data, fail_after=11 * MIB), content_type="text/csv"
        )
    with pytest.raises(RuntimeError, match="the source failed"):
        await store.write(
            "exports/ws-1/job_1/b.csv", chunks_of(data, fail_after=2 * MIB), content_type="text/csv"
        )
    assert leftovers(s3) == ([], [])


async def test_delete_removes_the_object_and_minds_no_missing_one(store: S3BlobStore, s3: Any) -> None:
    key = "uploads/ws-1/upl_b.csv"
    await store.write(key, chunks_of(b"domain\nacme.com\n"), content_type="text/csv")
    await store.delete(key)
    await store.delete(key)
    assert await store.size(key) is None and leftovers(s3) == ([], [])


async def test_presigned_urls_take_the_signed_upload_and_serve_the_download(moto_server: str) -> None:
    """Given a PUT URL for 16 bytes of text/csv, it signs Content-Length and Content-Type (what makes S3
    refuse any other size or type) and expires in 15 minutes; a PUT of those bytes with those headers is
    stored; a GET URL for it serves the bytes as an attachment named as asked (reduced to a safe name)."""
    client = s3_client(endpoint_url=moto_server)
    client.create_bucket(Bucket=BUCKET)
    store = S3BlobStore(BUCKET, client)
    key, body = "uploads/ws-1/upl_c.csv", b"domain\nacme.com\n"
    put_url = await store.presign_put(key, size=len(body), content_type="text/csv", expires_in=900)
    signed = parse_qs(urlsplit(put_url).query)
    assert signed["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert signed["X-Amz-Expires"] == ["900"] and signed["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert urlsplit(put_url).path == f"/{BUCKET}/{key}"
    async with httpx.AsyncClient() as http:
        put = await http.put(
            put_url, content=body, headers={"Content-Length": str(len(body)), "Content-Type": "text/csv"}
        )
        assert put.status_code == 200
        assert await store.size(key) == len(body)
        get_url = await store.presign_get(key, expires_in=900, filename='leads "final".csv')
        got = await http.get(get_url)
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-disposition"] == 'attachment; filename="leads_final_.csv"'
