"""`POST /jobs {"upload_id"}`: the request's rules (each naming its field) and the job made from an uploaded
file (on the SQLite store, the dict-backed object store): checked against the object, stored empty and due
for the processor's loader, replayed under its idempotency key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from leadenrich.jobs.errors import IdempotencyKeyReused, RequestRejected
from leadenrich.jobs.models import JobKind, JobStatus
from leadenrich.jobs.requests import ColumnMap, CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.sqlite.db import FILE_NAME, Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.uploads.columns import FIELDS
from leadenrich.uploads.models import UploadState, upload_key
from tests.support.blobs import DictBlobStore

WS = "ws-1"
UPLOAD = "upl_" + "0123456789abcdef" * 2
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def error_of(payload: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as caught:
        CreateJobRequest.model_validate(payload)
    first = caught.value.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


# --- the request --------------------------------------------------------------------------------------------


def test_an_upload_id_is_a_source_of_its_own_with_an_optional_column_map() -> None:
    request = CreateJobRequest.model_validate({"upload_id": UPLOAD, "columns": {"domain": "Site"}})
    assert (request.source, request.kind, request.all_leads()) == ("upload_id", JobKind.ENRICHMENT, [])
    assert request.columns is not None and request.columns.pairs() == (("domain", "Site"),)


@pytest.mark.parametrize(
    ("payload", "names"),
    [
        ({"upload_id": "upl_123"}, "upload_id: String should match pattern"),
        ({"upload_id": "upl_" + "A" * 32}, "upload_id: String should match pattern"),
        ({"upload_id": UPLOAD, "domains": ["acme.com"]}, "exactly one of"),
        ({"upload_id": UPLOAD, "emails": ["a@acme.com"]}, "exactly one of"),
        (
            {"domains": ["acme.com"], "columns": {"domain": "Site"}},
            "columns: Value error, only with upload_id",
        ),
        (
            {"upload_id": UPLOAD, "columns": {"email": "Mail"}},
            "columns.email: Extra inputs are not permitted",
        ),
        ({"upload_id": UPLOAD, "columns": {"domain": ""}}, "columns.domain: String should have at least 1"),
        ({"upload_id": UPLOAD, "skip_existing": True}, "skip_existing: Value error, not with upload_id"),
    ],
)
def test_bad_upload_requests_name_the_field(payload: dict[str, object], names: str) -> None:
    assert names in error_of(payload)


def test_the_column_map_takes_exactly_the_lead_fields_the_file_reader_resolves() -> None:
    assert tuple(ColumnMap.model_fields) == FIELDS


# --- creating the job ---------------------------------------------------------------------------------------


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[JobService]:
    db = Database(tmp_path / FILE_NAME)
    made = JobService(SqliteJobStore(db), SqliteWorkQueue(db), lambda: NOW)
    made.blobs = DictBlobStore()
    made.upload_max_bytes = 1000
    yield made
    db.close()


def blobs(service: JobService) -> DictBlobStore:
    assert isinstance(service.blobs, DictBlobStore)
    return service.blobs


async def test_the_job_is_stored_empty_and_due_now_for_the_processor_to_read(service: JobService) -> None:
    blobs(service).objects[upload_key(WS, UPLOAD)] = b"domain\nacme.com\n"
    request = CreateJobRequest.model_validate({"upload_id": UPLOAD, "columns": {"domain": "domain"}})
    created = await service.create_job(WS, request)
    job = created.job
    assert (created.created, created.queue_calls) == (True, 0)
    assert (job.status, job.counters.total, job.due_at) == (JobStatus.PENDING, 0, NOW)
    assert job.options.upload == UploadState(
        UPLOAD, f"uploads/{WS}/{UPLOAD}.csv", 16, column_map=(("domain", "domain"),)
    )
    assert (await service.store.get_job(WS, job.job_id)) == job
    assert (await service.queue.depth()).visible == 0  # nothing is enqueued before the file is read


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ({}, "no file was uploaded under this id in this workspace"),
        ({upload_key("ws-2", UPLOAD): b"domain\n"}, "no file was uploaded under this id in this workspace"),
        ({upload_key(WS, UPLOAD): b""}, "the uploaded file is empty"),
        ({upload_key(WS, UPLOAD): b"x" * 1001}, "the file is 1,001 bytes: this deployment takes 1,000"),
    ],
)
async def test_a_missing_empty_or_too_large_upload_is_refused_naming_upload_id(
    service: JobService, objects: dict[str, bytes], message: str
) -> None:
    blobs(service).objects.update(objects)
    with pytest.raises(RequestRejected) as refused:
        await service.create_job(WS, CreateJobRequest.model_validate({"upload_id": UPLOAD}))
    assert refused.value.field == "upload_id" and refused.value.message.startswith(message)


async def test_without_an_object_store_upload_jobs_are_refused_saying_so(service: JobService) -> None:
    service.blobs = None
    with pytest.raises(RequestRejected) as refused:
        await service.create_job(WS, CreateJobRequest.model_validate({"upload_id": UPLOAD}))
    assert refused.value.field == "upload_id" and "not configured" in refused.value.message


async def test_a_replay_answers_the_first_job_even_once_its_file_is_gone(service: JobService) -> None:
    blobs(service).objects[upload_key(WS, UPLOAD)] = b"domain\nacme.com\n"
    request = CreateJobRequest.model_validate({"upload_id": UPLOAD})
    first = await service.create_job(WS, request, idempotency_key="k-1")
    blobs(service).objects.clear()
    again = await service.create_job(WS, request, idempotency_key="k-1")
    assert (again.created, again.job.job_id) == (False, first.job.job_id)
    other = CreateJobRequest.model_validate({"upload_id": UPLOAD, "columns": {"domain": "Site"}})
    with pytest.raises(IdempotencyKeyReused):
        await service.create_job(WS, other, idempotency_key="k-1")
