"""`POST /uploads` and the export routes through the API Lambda on moto (DynamoDB, SQS, S3), every answer held
to docs/openapi.json (the conftest's `openapi_conformance`): an upload's URL is signed for its size under
the caller's workspace, so another workspace's upload_id makes no job; an export holds exactly what
`GET /jobs/{job_id}/items` shows (a suppressed address withheld), written in one request or, given a
request's time share of 0 (one page of 1,000 items a request), across several that make the same file;
another workspace's job or export is a 404 that writes nothing; without an object store the routes answer
501."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from leadenrich import runtime
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import CounterDelta
from leadenrich.uploads.export import CSV_COLUMNS
from leadenrich.uploads.export_client import ExportStalled, export_path, export_until_ready
from tests.support.api_stack import call

BUCKET = "leadenrich-uploads-api"
UPLOAD = {"size_bytes": 40, "filename": "leads.csv", "content_type": "text/csv"}
NO_EXPORT = "exp_" + "0" * 32  # well formed, never made


@pytest.fixture
def s3(stack: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The API's environment with UPLOAD_BUCKET, as template.yaml gives it."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("UPLOAD_BUCKET", BUCKET)
    runtime.reset()
    yield client
    runtime.reset()


def key_of(url: str) -> str:
    """The object key of a presigned URL (virtual-hosted style: the bucket is in the host)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.hostname.startswith(f"{BUCKET}.s3")
    return unquote(parts.path.lstrip("/"))


def test_an_upload_is_signed_for_its_size_under_the_callers_workspace(s3: Any) -> None:
    """Given POST /uploads for 40 bytes, the answer is a PUT URL for `uploads/<workspace>/<upload_id>.csv`
    signed with Content-Length and Content-Type (the headers to send, exactly), valid 15 minutes; once
    the file is there, a job is made from it, but not by another workspace, whose key names nothing."""
    status, grant, _ = call("POST", "/uploads", body=UPLOAD)
    assert status == 201
    upload_id = grant["upload_id"]
    assert grant["method"] == "PUT" and grant["max_bytes"] == 100 * 1024 * 1024
    assert grant["headers"] == {"Content-Length": "40", "Content-Type": "text/csv"}
    assert key_of(grant["url"]) == f"uploads/default/{upload_id}.csv"
    signed = parse_qs(urlsplit(grant["url"]).query)
    assert signed["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert signed["X-Amz-Expires"] == ["900"]
    expires = datetime.fromisoformat(grant["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < expires <= timedelta(minutes=15)
    _, second, _ = call("POST", "/uploads", body=UPLOAD)
    assert second["upload_id"] != upload_id

    body = b"domain,first_name\nacme.com,Ada\nglobex.io,B\n"[:40]
    s3.put_object(Bucket=BUCKET, Key=f"uploads/default/{upload_id}.csv", Body=body, ContentType="text/csv")
    status, refused, _ = call("POST", "/jobs", body={"upload_id": upload_id}, workspace="other")
    assert status == 422 and refused["field"] == "body.upload_id"
    status, job, _ = call("POST", "/jobs", body={"upload_id": upload_id})
    assert status == 202 and job["upload"]["upload_id"] == upload_id and job["upload"]["size"] == 40
    assert job["upload"]["state"] == "loading"
    status, shown, _ = call("GET", f"/jobs/{job['job_id']}")
    assert status == 200 and shown["upload"]["bytes_read"] == 0 and shown["upload"]["errors"] == []


def test_an_upload_outside_the_limits_is_refused_naming_the_field(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "1000")
    runtime.reset()
    for body, field in (
        ({**UPLOAD, "size_bytes": 1001}, "body.size_bytes"),  # over this deployment's limit
        ({**UPLOAD, "size_bytes": 0}, "body.size_bytes"),
        ({**UPLOAD, "size_bytes": 6 * 1024**3}, "body.size_bytes"),  # over S3's single PUT
        ({**UPLOAD, "content_type": "application/vnd.ms-excel"}, "body.content_type"),
        ({**UPLOAD, "filename": "x" * 256}, "body.filename"),
        ({**UPLOAD, "key": "uploads/other/x.csv"}, "body.key"),  # the caller never chooses the key
    ):
        status, refused, _ = call("POST", "/uploads", body=body)
        assert (status, refused["field"]) == (422, field), body
    status, grant, _ = call("POST", "/uploads", body={"size_bytes": 1000})
    assert status == 201 and grant["max_bytes"] == 1000 and grant["headers"]["Content-Type"] == "text/csv"


def test_without_an_object_store_the_routes_answer_501(stack: None) -> None:
    for method, path, body in (
        ("POST", "/uploads", UPLOAD),
        ("POST", "/jobs/job_x/exports", None),
        ("POST", f"/jobs/job_x/exports/{NO_EXPORT}", None),
        ("GET", f"/jobs/job_x/exports/{NO_EXPORT}", None),
    ):
        status, answered, _ = call(method, path, body=body)
        assert status == 501 and "object store" in answered["message"], path


def address(email: str, kind: EmailType, person: str) -> FoundEmail:
    return FoundEmail(
        email,
        EmailSource.HUNTER_DIRECT,
        91,
        kind,
        HunterStatus.DELIVERABLE,
        EmailStatus.ACTIVE,
        datetime(2026, 11, 20, tzinfo=UTC),
        Method.DOMAIN_SEARCH,
        Deliverability.VERIFIED,
        person=person,
        position="CEO",
    )


def finished_job(job_id: str) -> None:
    """A job of the workspace "default": one lead found (two addresses), one not found whose external_id
    a spreadsheet would run as a formula, one still queued."""
    store = runtime.job_service().store
    now = datetime.now(UTC)
    leads = [
        Lead(domain="acme.de", first_name="Ada", last_name="Byron", external_id="crm-1"),
        Lead(domain="globex.io", external_id="=HYPERLINK(evil)"),
        Lead(domain="initech.example"),
    ]
    job = Job("default", job_id, JobStatus.RUNNING, now)
    items = [Item("default", job_id, f"{n:06d}", lead) for n, lead in enumerate(leads)]
    asyncio.run(store.create_job(job, items))
    found = EnrichmentResult(
        "acme.de",
        LeadStatus.FOUND,
        [
            address("ada@acme.de", EmailType.PRIMARY, "Ada Byron"),
            address("bob@acme.de", EmailType.SECONDARY, "Bob"),
        ],
    )
    outcomes = [
        (ItemStatus.FOUND, None, found.as_record(), CounterDelta(found=1)),
        (
            ItemStatus.NOT_FOUND,
            "no address found",
            EnrichmentResult("globex.io", LeadStatus.NOT_FOUND).as_record(),
            CounterDelta(),
        ),
    ]
    for n, (status, reason, record, delta) in enumerate(outcomes):
        claimed = asyncio.run(
            store.claim_item("default", job_id, f"{n:06d}", token="t", lease_until=now, now=now)
        )
        assert claimed is not None
        assert asyncio.run(
            store.finish_item(claimed, status, reason=reason, result=record, delta=delta, now=now)
        )


def test_an_export_holds_what_the_items_show_with_suppressed_addresses_withheld(s3: Any) -> None:
    """Given a finished lead whose primary address was suppressed after it was stored, when the job is
    exported, then the CSV (a row per item, the CLI's column names, Excel-safe) has the other address as
    the best one and counts one withheld, exactly as GET /jobs/{job_id}/items shows it; the suppressed
    address is nowhere in the file; the URL downloads it as <job_id>.csv; the audit trail has the export."""
    finished_job("job_export")
    status, added, _ = call("POST", "/suppressions", body={"entries": [{"email": "ada@acme.de"}]})
    assert status == 200 and added["added"] == 1

    status, exported, _ = call("POST", "/jobs/job_export/exports")
    assert status == 201 and exported["rows"] == 3 and exported["format"] == "csv"
    assert exported["state"] == "ready" and exported["export_id"].startswith("exp_")
    key = key_of(exported["url"])
    assert key == f"exports/default/job_export/{exported['export_id']}.csv"
    disposition = parse_qs(urlsplit(exported["url"]).query)["response-content-disposition"]
    assert disposition == ['attachment; filename="job_export.csv"']
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    data = stored["Body"].read()
    assert len(data) == exported["bytes"] == stored["ContentLength"] and stored["ContentType"] == "text/csv"
    assert data.startswith("\ufeff".encode()) and b"ada@acme.de" not in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    found, missing, queued = rows
    assert (found["item_id"], found["status"], found["email"], found["withheld"]) == (
        "000000",
        "found",
        "bob@acme.de",
        "1",
    )
    assert (found["first_name"], found["last_name"], found["external_id"]) == ("Ada", "Byron", "crm-1")
    assert (found["confidence_score"], found["deliverability"], found["hunter_status"]) == (
        "91",
        "verified",
        "deliverable",
    )
    assert (found["source"], found["person"], found["other_emails"]) == ("hunter_direct", "Bob", "")
    assert (missing["status"], missing["reason"], missing["email"]) == ("not_found", "no address found", "")
    assert missing["external_id"] == "'=HYPERLINK(evil)"
    assert (queued["status"], queued["domain"]) == ("queued", "initech.example")

    _, page, _ = call("GET", "/jobs/job_export/items")
    assert [e["email"] for e in page["items"][0]["emails"]] == ["bob@acme.de"]
    assert page["items"][0]["withheld"] == 1
    _, audit, _ = call("GET", "/audit", query={"action": "results.export"})
    (entry,) = audit["entries"]
    assert entry["job_id"] == "job_export" and entry["detail"] == {
        "export_id": exported["export_id"],
        "state": "ready",
        "rows": 3,
        "bytes": exported["bytes"],
    }


def test_another_workspaces_job_is_not_found_and_nothing_is_written(s3: Any) -> None:
    finished_job("job_theirs")
    status, body, _ = call("POST", "/jobs/job_theirs/exports", workspace="other")
    assert status == 404 and "job_theirs" in body["message"]
    assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_a_missing_bucket_is_an_outage_not_a_500(s3: Any) -> None:
    """The deployment's bucket gone: a 503 with Retry-After (the store is out), as for a missing table."""
    finished_job("job_nobucket")
    s3.delete_bucket(Bucket=BUCKET)
    status, body, headers = call("POST", "/jobs/job_nobucket/exports")
    assert status == 503 and int(headers["Retry-After"]) > 0 and BUCKET not in body["message"]


SUPPRESSED_AT = (0, 1200, 2050)  # items found with ada@acme.de (suppressed) and bob@acme.de, a page each


def large_job(job_id: str, size: int) -> None:
    """A job of "default" with `size` items: those of `SUPPRESSED_AT` it has found with
    two addresses, the first of them suppressed once found; the rest queued."""
    store = runtime.job_service().store
    now = datetime.now(UTC)
    job = Job("default", job_id, JobStatus.RUNNING, now)
    leads = [Lead(domain=f"d{n}.example", external_id=f"crm-{n}") for n in range(size)]
    asyncio.run(
        store.create_job(job, [Item("default", job_id, f"{n:06d}", lead) for n, lead in enumerate(leads)])
    )
    found = EnrichmentResult(
        "acme.de",
        LeadStatus.FOUND,
        [
            address("ada@acme.de", EmailType.PRIMARY, "Ada"),
            address("bob@acme.de", EmailType.SECONDARY, "Bob"),
        ],
    )
    for n in (n for n in SUPPRESSED_AT if n < size):
        claimed = asyncio.run(
            store.claim_item("default", job_id, f"{n:06d}", token="t", lease_until=now, now=now)
        )
        assert claimed is not None
        assert asyncio.run(
            store.finish_item(
                claimed,
                ItemStatus.FOUND,
                reason=None,
                result=found.as_record(),
                delta=CounterDelta(found=1),
                now=now,
            )
        )
    status, _, _ = call("POST", "/suppressions", body={"entries": [{"email": "ada@acme.de"}]})
    assert status == 200


def test_a_large_export_is_written_across_requests_into_the_same_file(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given 2,100 items, a request's time share of 0 (one page of 1,000 items a request) and parts of
    32 KiB (moto told S3's rule at that size, so a smaller part but the last would fail), when the caller
    loops with `export_client.export_until_ready` (POST, then POST the export until it is ready), then
    there are three requests (202, 202, 201), each 202 one part further with its Location; the file is
    byte for byte the one a single request writes; the suppressed address is withheld on every page; GET
    reads the state; a ready export answers 201 again with a fresh URL; every request is audited."""
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 32 * 1024)
    monkeypatch.setenv("EXPORT_REQUEST_SECONDS", "0")
    monkeypatch.setenv("EXPORT_PART_BYTES", str(32 * 1024))
    runtime.reset()
    large_job("job_large", 2100)

    answers: list[tuple[int, dict[str, Any], dict[str, str]]] = []
    shown: list[dict[str, Any]] = []

    def post(path: str) -> dict[str, Any]:
        status, body, headers = call("POST", path)
        assert status in (201, 202), body
        answers.append((status, body, headers))
        return dict(body)

    def read(progress: Mapping[str, Any]) -> None:  # GET while it is written
        status, body, _ = call("GET", export_path("job_large", progress["export_id"]))
        assert status == 200
        shown.append(body)

    export_until_ready(post, "job_large", on_progress=read)
    assert [status for status, _, _ in answers] == [202, 202, 201]
    assert [body["rows"] for _, body, _ in answers] == [1000, 2000, 2100]
    assert [body["rows_added"] for _, body, _ in answers[:-1]] == [1000, 1000]
    location = f"/jobs/job_large/exports/{answers[0][1]['export_id']}"
    assert [headers["Location"] for _, _, headers in answers[:-1]] == [location, location]
    assert [(b["state"], b["rows"], b["rows_added"]) for b in shown] == [
        ("writing", 1000, 0),
        ("writing", 2000, 0),
    ]
    done = answers[-1][1]
    assert done["state"] == "ready" and done["export_id"] == answers[0][1]["export_id"]
    key = key_of(done["url"])
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    several = stored["Body"].read()
    assert len(several) == done["bytes"] and stored["ContentType"] == "text/csv"
    parts = s3.head_object(Bucket=BUCKET, Key=key, PartNumber=1)["PartsCount"]
    assert parts == 3  # a part a request: two whole pages and the last tenth
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []

    status, again, _ = call("POST", location)
    assert status == 201 and (again["rows"], again["bytes"]) == (2100, done["bytes"])
    status, ready, _ = call("GET", location)
    assert status == 200 and ready["state"] == "ready" and key_of(ready["url"]) == key

    rows = list(csv.DictReader(io.StringIO(several.decode("utf-8-sig"))))
    assert [r["item_id"] for r in rows] == [f"{n:06d}" for n in range(2100)]
    assert b"ada@acme.de" not in several
    for n in SUPPRESSED_AT:
        assert (rows[n]["status"], rows[n]["email"], rows[n]["withheld"]) == ("found", "bob@acme.de", "1")

    monkeypatch.delenv("EXPORT_REQUEST_SECONDS")
    runtime.reset()
    status, whole, _ = call("POST", "/jobs/job_large/exports")
    assert status == 201 and whole["export_id"] != done["export_id"]
    assert s3.get_object(Bucket=BUCKET, Key=key_of(whole["url"]))["Body"].read() == several

    _, audit, _ = call("GET", "/audit", query={"action": "results.export", "limit": "50"})
    states = [(e["detail"]["state"], e["detail"]["rows"]) for e in reversed(audit["entries"])]
    assert states == [
        ("writing", 1000),  # (a GET of an export being written is not recorded: it hands out no file)
        ("writing", 2000),
        ("ready", 2100),
        ("ready", 2100),  # the ready export POSTed again
        ("ready", 2100),  # its URL read with GET
        ("ready", 2100),  # the export in one request
    ]


def test_another_workspaces_export_is_not_found(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an export of "default" being written, another workspace can neither continue nor read it (the
    same 404 as an id never made), nor can the workspace under another job; nothing is written by them;
    an id that is not an export id is a 422 naming it. Its requests (a page each) never fill a 5 MiB part:
    each answers 202 saying nothing new was kept, and the client's loop gives up after a few."""
    monkeypatch.setenv("EXPORT_REQUEST_SECONDS", "0")
    runtime.reset()
    large_job("job_mine", 1001)
    status, started, headers = call("POST", "/jobs/job_mine/exports")
    assert status == 202
    before = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for method in ("POST", "GET"):
        for path, workspace in (
            (headers["Location"], "other"),
            (f"/jobs/job_mine/exports/{NO_EXPORT}", "default"),
            (f"/jobs/job_theirs/exports/{started['export_id']}", "default"),
        ):
            status, body, _ = call(method, path, workspace=workspace)
            assert status == 404 and "not found" in body["message"], (method, path, workspace)
        status, body, _ = call(method, "/jobs/job_mine/exports/exp_1", workspace="default")
        assert status == 422 and body["field"] == "path.export_id"
    assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == before

    def post(path: str) -> dict[str, Any]:  # parts of 5 MiB: one page a request never fills one
        status, body, _ = call("POST", path)
        assert status == 202 and body["rows_added"] == 0 and "no whole part" in body["message"]
        return dict(body)

    with pytest.raises(ExportStalled, match="2 requests in a row wrote nothing"):
        export_until_ready(post, "job_mine", max_stalled=2)
