"""Large files through the object store (docs/uploads.md): `POST /uploads` answers where to PUT a CSV (a
presigned URL for exactly the size asked), and `POST /jobs/{job_id}/exports` writes a job's results as a CSV
and answers where to GET it; a file too large for one request is written further by
`POST /jobs/{job_id}/exports/{export_id}` (202 until it is ready, 201 then), and
`GET /jobs/{job_id}/exports/{export_id}` reads how far it is. Without a store (no UPLOAD_BUCKET) all answer
501.

The export reads the items through `api_routes.items.items_page`, the read `GET /jobs/{job_id}/items`
answers with, so suppressed addresses stay withheld and another workspace's job is a 404. All are in the
audit trail: `upload.create` (the upload_id and size) and `results.export` (the job, the export, its state,
rows and bytes) for each export request, and for each GET that hands out the file's URL.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from api_audit import Audited, Exchange, register
from api_context import answer, error, new_router, run, workspace
from api_responses import API_KEY, KEYED, RETRY_AFTER_SCHEMA, body, header, responses
from api_routes.items import items_page
from leadenrich import runtime_uploads
from leadenrich.http_errors import ErrorBody
from leadenrich.jobs.views import ItemView
from leadenrich.uploads.export import EXPORT_ID_PATTERN, PAGE_SIZE
from leadenrich.uploads.service import ExportNotFound, ExportStatus
from leadenrich.uploads.views import (
    CreatedUploadView,
    CreateUploadRequest,
    ExportProgressView,
    ExportView,
    UploadHeadersView,
)

router = new_router()
# The end of the invocation kept for the page read past an export's time, its part and its answer.
EXPORT_MARGIN_SECONDS = 4.0
ExportIdPath = Annotated[
    str,
    Path(pattern=EXPORT_ID_PATTERN, description="the export, from `POST /jobs/{job_id}/exports`"),
]

NO_STORE = body(
    ErrorBody,
    "The deployment has no object store for uploads and exports (UPLOAD_BUCKET is not set; the local stack "
    "has its own)",
)
EXAMPLES = {
    "csv": Example(
        summary="A CSV of leads",
        value={"size_bytes": 5_242_880, "filename": "leads.csv", "content_type": "text/csv"},
    )
}


def _upload_id(exchange: Exchange) -> str:
    return str(exchange.response.get("upload_id", ""))


def _upload_detail(exchange: Exchange) -> dict[str, object]:
    return {"size_bytes": exchange.request.get("size_bytes")}  # never the filename: it may name a person


def _export_detail(exchange: Exchange) -> dict[str, object]:
    return {name: exchange.response.get(name) for name in ("export_id", "state", "rows", "bytes")}


def _url_given(exchange: Exchange) -> bool:
    return "url" in exchange.response


EXPORTED = Audited("results.export", detail=_export_detail)
register("POST", "/uploads", Audited("upload.create", _upload_id, _upload_detail))
register("POST", "/jobs/{job_id}/exports", EXPORTED)
register("POST", "/jobs/{job_id}/exports/{export_id}", EXPORTED)
register(
    "GET",
    "/jobs/{job_id}/exports/{export_id}",
    Audited("results.export", detail=_export_detail, when=_url_given),
)


@router.post(
    "/uploads",
    operation_id="createUpload",
    security=API_KEY,
    tags=["uploads"],
    status_code=201,
    description=(
        "Where to PUT a CSV of leads too large for `POST /jobs` inline (more than 10,000 rows): a URL that "
        "accepts one PUT of exactly `size_bytes` bytes with the `headers` given (Content-Length and "
        "Content-Type, which it is signed with) for 15 minutes; send no API key with it. Then "
        '`POST /jobs {"upload_id": ...}` makes one job that reads the file in pages (its progress in '
        "`GET /jobs/{job_id}`'s `upload`). The file is kept 7 days. docs/uploads.md."
    ),
    responses=responses(
        {
            201: body(CreatedUploadView, "Where and how to PUT the file"),
            501: NO_STORE,
        },
        *KEYED,
        415,
    ),
)
def create_upload(request: Annotated[CreateUploadRequest, Body(openapi_examples=EXAMPLES)]) -> Response[str]:
    caller = workspace(router.current_event)
    grant = run(
        runtime_uploads.upload_service().create_upload(caller, request.size_bytes, request.content_type)
    )
    headers = UploadHeadersView(content_length=str(grant.size), content_type=grant.content_type)
    view = CreatedUploadView(
        upload_id=grant.upload_id,
        method="PUT",
        url=grant.url,
        headers=headers,
        expires_at=grant.expires_at,
        max_bytes=grant.max_bytes,
    )
    return answer(201, view)


OUTAGE = body(
    ErrorBody,
    "A store the export depends on cannot serve now (the job table, the bucket): retry after `Retry-After` "
    "seconds; what was written stays",
    {"Retry-After": header("seconds to wait before trying again", RETRY_AFTER_SCHEMA, required=True)},
)
WRITING = body(
    ExportProgressView,
    "Not all written yet: `POST` its `Location` to write further (until a 201). `rows_added` 0 when this "
    "request could not write one whole part in its time (nothing new kept)",
    {
        "Location": header(
            "where to continue: /jobs/{job_id}/exports/{export_id}", {"type": "string"}, required=True
        )
    },
)
READY = body(ExportView, "The file, written whole: where to download it (a fresh URL)")
NO_EXPORT = body(
    ErrorBody,
    "No such job, or no such export of it, in the workspace (another workspace's are not found either), or "
    "an export whose upload expired (a day)",
)
EXPORT_RESPONSES: dict[int, OpenAPIResponse] = {
    201: READY,
    202: WRITING,
    404: NO_EXPORT,
    501: NO_STORE,
    503: OUTAGE,
}


@router.post(
    "/jobs/<job_id>/exports",
    operation_id="exportJob",
    security=API_KEY,
    tags=["items"],
    status_code=201,
    description=(
        "The job's items as one CSV file, a row each (the item, its outcome, the lead as given, its best "
        "address with its confidence, deliverability and Hunter status, the others `; `-joined), exactly "
        "what `GET /jobs/{job_id}/items` shows: suppressed addresses withheld, addresses pending review "
        "held back. Starts an export and writes as much of it as the request's time allows: 201 with a URL "
        "to GET the file (15 minutes, no API key; kept a day) when it is all written, else 202 with the "
        "`Location` to `POST` until it answers 201 (a large job takes several requests). docs/uploads.md."
    ),
    responses=responses(EXPORT_RESPONSES, *KEYED, 404),
)
def export_job(job_id: str) -> Response[str]:
    caller = workspace(router.current_event)
    pages = functools.partial(_page, caller, job_id)
    service = runtime_uploads.upload_service()
    return _export_answer(run(service.start_export(caller, job_id, pages, deadline=_deadline())))


@router.post(
    "/jobs/<job_id>/exports/<export_id>",
    operation_id="continueExport",
    security=API_KEY,
    tags=["items"],
    status_code=201,
    description=(
        "Writes the export further from its last whole part, as far as the request's time allows: 201 with "
        "the URL once it is all written (a ready export answers 201 again, with a fresh URL), else 202 as "
        "`POST /jobs/{job_id}/exports`. docs/uploads.md."
    ),
    responses=responses(EXPORT_RESPONSES, *KEYED, 404),
)
def continue_export(job_id: str, export_id: ExportIdPath) -> Response[str]:
    caller = workspace(router.current_event)
    pages = functools.partial(_page, caller, job_id)
    service = runtime_uploads.upload_service()
    try:
        status = run(service.continue_export(caller, job_id, export_id, pages, deadline=_deadline()))
    except ExportNotFound as exc:
        return error(404, str(exc))
    return _export_answer(status)


@router.get(
    "/jobs/<job_id>/exports/<export_id>",
    operation_id="getExport",
    security=API_KEY,
    tags=["items"],
    description=(
        "How far the export is, writing nothing: `ready` with a fresh URL to GET the file, or `writing` "
        "with the rows so far (continue it with `POST` at the same path). docs/uploads.md."
    ),
    responses=responses(
        {
            200: body(ExportView | ExportProgressView, "The export: `state` says which"),
            404: NO_EXPORT,
            501: NO_STORE,
        },
        *KEYED,
        404,
    ),
)
def get_export(job_id: str, export_id: ExportIdPath) -> Response[str]:
    caller = workspace(router.current_event)
    try:
        status = run(runtime_uploads.upload_service().export_status(caller, job_id, export_id))
    except ExportNotFound as exc:
        return error(404, str(exc))
    return answer(200, _export_view(status, written_now=False))


def _deadline() -> float:
    """The invocation's end less the margin, on the monotonic clock."""
    left = router.lambda_context.get_remaining_time_in_millis() / 1000
    return time.monotonic() + left - EXPORT_MARGIN_SECONDS


def _export_view(status: ExportStatus, *, written_now: bool = True) -> ExportView | ExportProgressView:
    """The ready file's view, or the progress' (`written_now`: this request wrote, else it only read)."""
    if status.url is not None and status.expires_at is not None:
        return ExportView(
            export_id=status.export_id,
            state="ready",
            url=status.url,
            expires_at=status.expires_at,
            rows=status.rows,
            bytes=status.size,
            format="csv",
        )
    where = f"POST /jobs/{status.job_id}/exports/{status.export_id} to write further"
    if not written_now:
        message = f"being written: {where}"
    elif status.rows_added:
        message = f"{status.rows_added:,} more rows written: {where}"
    else:
        message = f"nothing new kept: no whole part could be written in this request's time; {where}"
    return ExportProgressView(
        export_id=status.export_id,
        state="writing",
        rows=status.rows,
        bytes=status.size,
        rows_added=status.rows_added,
        format="csv",
        message=message,
    )


def _export_answer(status: ExportStatus) -> Response[str]:
    """201 when the file is whole; 202 with where to continue otherwise."""
    view = _export_view(status)
    if isinstance(view, ExportView):
        return answer(201, view)
    return answer(202, view, {"Location": f"/jobs/{status.job_id}/exports/{status.export_id}"})


async def _page(workspace_id: str, job_id: str, cursor: str | None) -> tuple[Sequence[ItemView], str | None]:
    page = await items_page(workspace_id, job_id, status=None, limit=PAGE_SIZE, cursor=cursor)
    return page.items, page.cursor
