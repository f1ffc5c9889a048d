"""What `POST /uploads` takes and answers, and what the export routes answer (`POST /jobs/{job_id}/exports`,
`POST` and `GET /jobs/{job_id}/exports/{export_id}`: docs/uploads.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from leadenrich.jobs.views import IsoTime, View
from leadenrich.uploads.export import EXPORT_ID_PATTERN
from leadenrich.uploads.models import UPLOAD_ID_PATTERN
from leadenrich.uploads.service import MAX_UPLOAD_BYTES_LIMIT


class CreateUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size_bytes: int = Field(
        ge=1,
        le=MAX_UPLOAD_BYTES_LIMIT,
        description="the file's exact size: the URL accepts a body of this size only. At most the "
        "deployment's `max_bytes` (100 MiB unless UPLOAD_MAX_BYTES says otherwise): past it, a 422.",
    )
    filename: str | None = Field(
        default=None, min_length=1, max_length=255, description="for your own reference; not stored"
    )
    content_type: Literal["text/csv"] = Field(default="text/csv", description="send this as Content-Type")


class UploadHeadersView(View):
    """The headers the PUT must carry, exactly (the URL is signed with them)."""

    content_length: str = Field(alias="Content-Length")
    content_type: str = Field(alias="Content-Type")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CreatedUploadView(View):
    upload_id: str = Field(
        pattern=UPLOAD_ID_PATTERN, description="pass as `upload_id` to `POST /jobs` once the file is PUT"
    )
    method: Literal["PUT"]
    url: str = Field(description="where to PUT the file; the URL is the credential (send no API key)")
    headers: UploadHeadersView
    expires_at: IsoTime = Field(description="the URL works until then (15 minutes)")
    max_bytes: int = Field(description="the largest file this deployment takes")


EXPORT_ID_DESCRIPTION = "the export: `POST /jobs/{job_id}/exports/{export_id}` continues it, `GET` reads it"


class ExportView(View):
    """An export whose file is written whole."""

    export_id: str = Field(pattern=EXPORT_ID_PATTERN, description=EXPORT_ID_DESCRIPTION)
    state: Literal["ready"]
    url: str = Field(description="GET it to download the CSV (no API key); each answer gives a fresh URL")
    expires_at: IsoTime = Field(description="the URL works until then (15 minutes); the file is kept a day")
    rows: int = Field(description="items in the file, one row each")
    bytes: int = Field(description="the file's size")
    format: Literal["csv"]


class ExportProgressView(View):
    """An export still being written: continue it with `POST` at its `Location` until it is ready."""

    export_id: str = Field(pattern=EXPORT_ID_PATTERN, description=EXPORT_ID_DESCRIPTION)
    state: Literal["writing"]
    rows: int = Field(description="rows written so far (in whole parts: what a later request need not redo)")
    bytes: int = Field(description="bytes written so far")
    rows_added: int = Field(
        description="rows this request added (0 from GET, and when no whole part could be written in time)"
    )
    format: Literal["csv"]
    message: str = Field(description="what happened in this request and what to do next")


__all__ = [
    "CreateUploadRequest",
    "CreatedUploadView",
    "ExportProgressView",
    "ExportView",
    "UploadHeadersView",
]
