"""Creating a job from an uploaded CSV (`POST /jobs {"upload_id"}`): the job is stored empty, and the
processor reads the file into it page by page (`leadenrich.uploads.loader`, docs/uploads.md).

Only what can be known without reading the file is checked here: the object exists under the caller's
workspace (`uploads.models.upload_key`: another workspace's upload_id names nothing of theirs) and is not
larger than the deployment takes. The job is pending with total 0 and due now, so the next processor run
reads it; its rows count against the daily lead quota as they are read, not here. An idempotent replay
answers the first job, even once its file is gone.
"""

from __future__ import annotations

import dataclasses

from leadenrich.jobs.creation import Created, JobCreation, _same_request
from leadenrich.jobs.errors import RequestRejected
from leadenrich.jobs.models import LawfulBasis
from leadenrich.jobs.ports import IdempotencyConflict
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.uploads.models import UploadState, upload_key

NOT_CONFIGURED = "uploads are not configured in this deployment (no object store): send the leads inline"


async def create_from_upload(
    creation: JobCreation,
    workspace_id: str,
    request: CreateJobRequest,
    idempotency_key: str | None,
    basis: LawfulBasis,
) -> Created:
    """Store the job of `request.upload_id`, to be read by the processor. RequestRejected naming
    `upload_id` when there is no object store, no such file, or a file too large."""
    upload_id = request.upload_id
    if upload_id is None:
        raise RequestRejected("upload_id", "required")
    if creation.blobs is None:
        raise RequestRejected("upload_id", NOT_CONFIGURED)
    key = upload_key(workspace_id, upload_id)
    job = creation._new_job(workspace_id, request, idempotency_key, 0, basis)
    replayed = await creation._replay(job)  # even once its file is gone
    if replayed is not None:
        return replayed
    size = await creation.blobs.size(key)
    if size is None:
        raise RequestRejected(
            "upload_id",
            "no file was uploaded under this id in this workspace: PUT the file to the URL `POST /uploads` "
            "answered (before it expires), then create the job",
        )
    if size == 0:
        raise RequestRejected("upload_id", "the uploaded file is empty")
    if size > creation.upload_max_bytes:
        raise RequestRejected(
            "upload_id", f"the file is {size:,} bytes: this deployment takes {creation.upload_max_bytes:,}"
        )
    columns = request.columns.pairs() if request.columns is not None else ()
    state = UploadState(upload_id, key, size, column_map=columns)
    # Due now: the next processor run reads it (a later `run_at` is kept: the job waits for it once read).
    job = dataclasses.replace(
        job, options=dataclasses.replace(job.options, upload=state), due_at=creation.clock()
    )
    try:
        stored = await creation.store.create_job(job, [])
    except IdempotencyConflict as conflict:
        return Created(_same_request(job, conflict.job), created=False, queue_calls=0)
    return Created(stored, created=True, queue_calls=0)


__all__ = ["NOT_CONFIGURED", "create_from_upload"]
