"""The object store over Amazon S3 (`uploads.ports.BlobStore`): uploaded CSVs and exported results.

Callers never hold AWS credentials: they get presigned URLs. A PUT URL signs `Content-Length` and
`Content-Type` (SigV4, the only signature that signs headers), so S3 refuses a body of any other size or
type (403): that is the upload's size limit, checked by S3 before a byte is stored. A GET URL names the
download's file (`response-content-disposition`, signed with the rest). A URL made in Lambda is signed with
the function's temporary credentials and stops working when they expire, even before its own expiry.

Reads are ranged GETs (the processor reads a file in pages, never whole). A write is a multipart upload of
`PART_SIZE` parts, so memory stays bounded whatever the size, and a small object is one PutObject. A write
that fails aborts its upload, so no object and no orphaned parts are left (the bucket's lifecycle rule
aborts what a killed process leaves, after a day). The multipart calls are also the port's own, for an
export written across requests (`uploads.export_writer`): S3's NoSuchUpload is the port's KeyError. Over
moto the calls take S3's process-wide lock (`aws.threaded`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from leadenrich.aws.threaded import S3_EMULATOR_LOCK, ThreadedClient
from leadenrich.uploads.export import attachment

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024  # S3's parts are 5 MiB at least, but the last
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_NO_UPLOAD = "NoSuchUpload"


def s3_client(*, endpoint_url: str | None = None, max_connections: int = 10) -> Any:
    """An S3 client that signs with SigV4 (presigned headers), standard retries. `endpoint_url`: another
    S3 (moto's server in tests)."""
    import boto3  # on first use: a process that never reaches S3 pays nothing for it
    from botocore.config import Config

    config = Config(
        signature_version="s3v4", max_pool_connections=max_connections, retries={"mode": "standard"}
    )
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


class S3BlobStore(ThreadedClient):
    emulator_lock = S3_EMULATOR_LOCK

    def __init__(
        self, bucket: str, client: Any, *, serialize_calls: bool = False, part_size: int = PART_SIZE
    ) -> None:
        super().__init__(client, serialize_calls=serialize_calls)
        self.bucket = bucket
        self.part_size = part_size

    async def presign_put(self, key: str, *, size: int, content_type: str, expires_in: int) -> str:
        params = {"Bucket": self.bucket, "Key": key, "ContentLength": size, "ContentType": content_type}
        url: str = self._client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
        return url  # signed locally: no call to S3

    async def presign_get(self, key: str, *, expires_in: int, filename: str) -> str:
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": attachment(filename)}
        url: str = self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        return url

    async def size(self, key: str) -> int | None:
        try:
            head = await self._call("head_object", Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return int(head["ContentLength"])

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError(f"read_range: start {start} and length {length} must not be negative")
        if length == 0:
            return b""

        def read() -> bytes:
            answer = self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            with answer["Body"] as body:
                data: bytes = body.read()
            return data

        try:
            return await self._run(read)
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING:
                raise KeyError(key) from None
            if code == "InvalidRange":  # at or past the end (or an empty object): nothing there
                return b""
            raise

    async def write(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[tuple[int, str]] = []
        written = 0
        try:
            async for chunk in chunks:
                buffer += chunk
                written += len(chunk)
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = await self.start_multipart(key, content_type=content_type)
                    part = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    number = len(parts) + 1
                    parts.append((number, await self.put_part(key, upload_id, number, part)))
            if upload_id is None:  # small: one PutObject
                await self._call(
                    "put_object", Bucket=self.bucket, Key=key, Body=bytes(buffer), ContentType=content_type
                )
                return written
            if buffer:
                number = len(parts) + 1
                parts.append((number, await self.put_part(key, upload_id, number, bytes(buffer))))
            await self.complete_multipart(key, upload_id, parts)
            return written
        except BaseException:
            if upload_id is not None:
                await asyncio.shield(self._abort(key, upload_id))
            raise

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        created = await self._call(
            "create_multipart_upload", Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return str(created["UploadId"])

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        try:
            answer = await self._call(
                "upload_part", Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
        except ClientError as exc:
            if _code(exc) == _NO_UPLOAD:
                raise KeyError(upload_id) from None
            raise
        return str(answer["ETag"])

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        listed = [{"PartNumber": number, "ETag": etag} for number, etag in parts]
        try:
            await self._call(
                "complete_multipart_upload",
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},
            )
        except ClientError as exc:
            if _code(exc) == _NO_UPLOAD:
                raise KeyError(upload_id) from None
            raise

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            await self._call("abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if _code(exc) != _NO_UPLOAD:
                raise

    async def _abort(self, key: str, upload_id: str) -> None:
        """Drop the parts stored so far; a failure here leaves them to the lifecycle rule (a day)."""
        try:
            await self.abort_multipart(key, upload_id)
        except Exception as exc:  # the write's own error is the one to raise
            log.warning("multipart upload not aborted", extra={"error": type(exc).__name__})

    async def delete(self, key: str) -> None:
        await self._call("delete_object", Bucket=self.bucket, Key=key)  # S3: no error when there is none


def _code(exc: ClientError) -> str:
    return str((exc.response.get("Error") or {}).get("Code") or "")


__all__ = ["PART_SIZE", "S3BlobStore", "s3_client"]
