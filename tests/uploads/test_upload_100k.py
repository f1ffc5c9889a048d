"""A 100,000-row upload end to end on moto's S3: the presigned PUT over real HTTP (moto's server on
loopback), the job made from it, the processor's runs reading it into 100,000 items in file order with the
bad rows reported by their lines, and the job's first queue window sent once the file is read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from leadenrich.aws.s3_blobs import S3BlobStore, s3_client
from leadenrich.deadline import Deadline
from leadenrich.jobs.control import release_due_jobs
from leadenrich.jobs.requests import CreateJobRequest
from leadenrich.jobs.service import JobService
from leadenrich.jobs.window import DEFAULT_WINDOW
from leadenrich.sqlite.db import FILE_NAME, Database
from leadenrich.sqlite.job_store import SqliteJobStore
from leadenrich.sqlite.queue import SqliteWorkQueue
from leadenrich.uploads.loader import UploadLoader
from leadenrich.uploads.service import UploadService

WS = "default"
BUCKET = "leadenrich-uploads-100k"
ROWS = 100_000
BAD_LINES = (3, 50_001, ROWS + 1)  # file lines (line 1 is the header) whose row has no usable domain


def leads_csv() -> bytes:
    lines = ["Company Website,Company Name,First Name,Last Name"]
    for line in range(2, ROWS + 2):
        domain = "not a domain" if line in BAD_LINES else f"c{line}.example.com"
        lines.append(f'{domain},"Company {line}, Inc.",Ana,Row{line}')
    return ("\r\n".join(lines) + "\r\n").encode()


async def test_a_100_000_row_upload_becomes_its_items_in_file_order(moto_server: str, tmp_path: Path) -> None:
    client = s3_client(endpoint_url=moto_server)
    client.create_bucket(Bucket=BUCKET)
    blobs = S3BlobStore(BUCKET, client)
    db = Database(tmp_path / FILE_NAME)
    store, queue = SqliteJobStore(db), SqliteWorkQueue(db)
    service = JobService(store, queue, queue_window=DEFAULT_WINDOW)
    service.blobs = blobs

    data = leads_csv()
    grant = await UploadService(blobs).create_upload(WS, len(data), "text/csv")
    async with httpx.AsyncClient() as http:
        signed = {"Content-Length": str(grant.size), "Content-Type": grant.content_type}
        put = await http.put(grant.url, content=data, headers=signed)
    assert put.status_code == 200, put.text
    job = (await service.create_job(WS, CreateJobRequest(upload_id=grant.upload_id))).job
    assert job.counters.total == 0 and (await queue.depth()).visible == 0

    loader, runs = UploadLoader(store, blobs), 0
    while (upload := (await store.get_job(WS, job.job_id)).options.upload).state == "loading":  # type: ignore[union-attr]
        runs += 1
        assert runs <= 20, upload
        await release_due_jobs(store, queue, datetime.now(UTC), load=loader.within(Deadline.after(15.0)))

    stored = await store.get_job(WS, job.job_id)
    assert stored is not None and stored.options.upload is not None
    upload = stored.options.upload
    assert upload.state == "loaded" and upload.failure is None
    assert upload.rows == stored.counters.total == ROWS - len(BAD_LINES)
    assert upload.refused == len(BAD_LINES)
    assert [(e.line, e.field) for e in upload.errors] == [(line, "domain") for line in BAD_LINES]
    assert upload.offset == upload.size == len(data) and upload.line == ROWS + 1
    first = await store.get_item(WS, job.job_id, "000000")
    last = await store.get_item(WS, job.job_id, f"{ROWS - len(BAD_LINES) - 1:06d}")
    assert first is not None and (first.lead.domain, first.lead.company_name) == (
        "c2.example.com",
        "Company 2, Inc.",
    )
    assert last is not None and last.lead.domain == f"c{ROWS}.example.com"  # the row before the last, bad one
    assert (await queue.depth()).visible == DEFAULT_WINDOW  # released: its first window, and no more
    db.close()
