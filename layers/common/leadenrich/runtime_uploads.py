"""The wiring of uploads and exports (docs/uploads.md) beside `leadenrich.runtime`: which object store the
deployment has, and how large an upload may be.

    UPLOAD_BUCKET                 S3 (deployed; moto in tests): `aws.s3_blobs.S3BlobStore`
    LOCAL_BLOB_DIR, LOCAL_BLOB_URL, LOCAL_BLOB_SECRET
                                  files under the local stack's state, URLs its gateway serves
                                  (`uploads.local_files.FileBlobStore`); all three or none
    neither                       no store: `POST /uploads`, exports and upload jobs answer 501
    UPLOAD_MAX_BYTES              the largest upload (default 100 MiB; at most 5 GiB, S3's one PUT)
    EXPORT_REQUEST_SECONDS        a request's share of time for writing an export (default: the invocation's
                                  time less a margin); tests make it 0, one page a request
    EXPORT_PART_BYTES             an export's smallest part but the last (default 5 MiB, S3's rule: less is
                                  for tests against an emulator told the same)

The store is made once per process (an S3 client), dropped by `runtime.reset()`; the service over it is not
cached (a small object).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from leadenrich import runtime as core
from leadenrich.settings_errors import SettingsError, require_together, settings_from_env
from leadenrich.uploads.export_writer import MIN_PART_BYTES
from leadenrich.uploads.service import DEFAULT_MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES_LIMIT

if TYPE_CHECKING:
    from leadenrich.uploads.ports import BlobStore
    from leadenrich.uploads.service import UploadService

_LOCAL = ("local_blob_dir", "local_blob_url", "local_blob_secret")


class UploadSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    upload_bucket: str | None = Field(default=None, min_length=3, max_length=63)
    local_blob_dir: str | None = None
    local_blob_url: str | None = None
    local_blob_secret: str | None = Field(default=None, min_length=16)
    upload_max_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, ge=1, le=MAX_UPLOAD_BYTES_LIMIT)
    export_request_seconds: float | None = Field(default=None, ge=0, le=900)
    export_part_bytes: int = Field(default=MIN_PART_BYTES, ge=1024, le=MAX_UPLOAD_BYTES_LIMIT)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UploadSettings:
        """From the environment; a SettingsError names the variable that is wrong or missing."""
        settings = settings_from_env(cls, env)
        require_together(settings, _LOCAL)
        if settings.upload_bucket and settings.local_blob_dir is not None:
            raise SettingsError("UPLOAD_BUCKET: set it or LOCAL_BLOB_DIR (the local stack's), not both")
        return settings


def upload_settings() -> UploadSettings:
    return UploadSettings.from_env()


def upload_max_bytes() -> int:
    return upload_settings().upload_max_bytes


@functools.cache
def blob_store() -> BlobStore | None:
    """The deployment's object store (module docstring); None when it has none."""
    settings = upload_settings()
    if settings.upload_bucket:
        from leadenrich.aws.s3_blobs import S3BlobStore, s3_client

        config = core.settings()
        client = s3_client(max_connections=config.processor_concurrency + 8)
        return S3BlobStore(settings.upload_bucket, client, serialize_calls=config.serialize_aws_calls)
    if settings.local_blob_dir and settings.local_blob_url and settings.local_blob_secret:
        from leadenrich.uploads.local_files import FileBlobStore

        return FileBlobStore(settings.local_blob_dir, settings.local_blob_url, settings.local_blob_secret)
    return None


def upload_service() -> UploadService:
    from leadenrich.uploads.service import UploadService

    settings = upload_settings()
    return UploadService(
        blob_store(),
        settings.upload_max_bytes,
        export_part_bytes=settings.export_part_bytes,
        export_seconds=settings.export_request_seconds,
    )


def reset() -> None:
    blob_store.cache_clear()


__all__ = ["UploadSettings", "blob_store", "reset", "upload_max_bytes", "upload_service", "upload_settings"]
