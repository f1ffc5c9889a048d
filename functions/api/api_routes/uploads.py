"""Large files through the object store (docs/uploads.md): `POST /uploads` answers where to PUT a CSV (a
presigned URL for exactly the size asked), and `POST /jobs/{job_id}/exports` writes a job's results as a CSV
and answers where to GET it. Without a store (no UPLOAD_BUCKET) both answer 501.

The export reads the items through `api_routes.items.items_page`, the read `GET /jobs/{job_id}/items`
answers with, so suppressed addresses stay withheld and another workspace's job is a 404. Both are in the
audit trail: `upload.create` (the upload_id and size) and `results.export` (the job, rows and bytes).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body

from api_audit import Audited, Exchange, register
from api_context import answer, error, new_router, run, workspace
from api_responses import API_KEY, KEYED, RETRY_AFTER_SCHEMA, body, header, responses
from api_routes.items import items_page
from leadenrich import runtime_uploads
from leadenrich.http_errors import ErrorBody
from leadenrich.jobs.views import ItemView
from leadenrich.uploads.export import PAGE_SIZE, ExportIncomplete
from leadenrich.uploads.views import CreatedUploadView, CreateUploadRequest, ExportView, UploadHeadersView

router = new_router()
# The end of the invocation kept for giving up an export cleanly (aborting its upload) and answering.
EXPORT_MARGIN_SECONDS = 4.0

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
    return {"rows": exchange.response.get("rows"), "bytes": exchange.response.get("bytes")}


register("POST", "/uploads", Audited("upload.create", _upload_id, _upload_detail))
register("POST", "/jobs/{job_id}/exports", Audited("results.export", detail=_export_detail))


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
        "held back. Answers a URL to GET the file (15 minutes, no API key); the file is kept a day. Made "
        "while the job runs, it holds the items as they stand. A job with more items than one request can "
        "write in time is a 503, nothing kept. docs/uploads.md."
    ),
    responses=responses(
        {
            201: body(ExportView, "The file, written: where to download it"),
            501: NO_STORE,
            503: body(
                ErrorBody,
                "A store the export depends on cannot serve now (the job table, the bucket), or the job has "
                "more items than one request can export in time: nothing was kept; retry after `Retry-After` "
                "seconds",
                {
                    "Retry-After": header(
                        "seconds to wait before trying again", RETRY_AFTER_SCHEMA, required=True
                    )
                },
            ),
        },
        *KEYED,
        404,
    ),
)
def export_job(job_id: str) -> Response[str]:
    caller = workspace(router.current_event)
    pages = functools.partial(_page, caller, job_id)
    left = router.lambda_context.get_remaining_time_in_millis() / 1000
    stop_at = time.monotonic() + left - EXPORT_MARGIN_SECONDS
    try:
        exported = run(runtime_uploads.upload_service().export_job(caller, job_id, pages, stop_at=stop_at))
    except ExportIncomplete as exc:  # too many items for one invocation: nothing was kept
        message = f"{exc}: the job has more items than one request can export in time (docs/uploads.md)"
        return error(503, message, None, {"Retry-After": "60"})
    view = ExportView(
        url=exported.url,
        expires_at=exported.expires_at,
        rows=exported.rows,
        bytes=exported.size,
        format="csv",
    )
    return answer(201, view)


async def _page(workspace_id: str, job_id: str, cursor: str | None) -> tuple[Sequence[ItemView], str | None]:
    page = await items_page(workspace_id, job_id, status=None, limit=PAGE_SIZE, cursor=cursor)
    return page.items, page.cursor
