"""Uploads and exports on the laptop stack, end to end over HTTP (docs/uploads.md): `POST /uploads`, the file
PUT to the gateway's presigned URL, a job made from it and read by the processor, its results exported and
downloaded from another presigned URL; on the embedded state (files under it, a secret kept in it) and over
moto (a temporary folder, gone at stop). One stack at a time in a process: each test starts its own."""

from __future__ import annotations

import csv
import io
import os
import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrich_tools.local.stack import LocalStack, StackOptions
from enrich_tools.local.state import BLOB_DIR, BLOB_SECRET_FILE
from enrich_tools.simulator import SHOWCASE_DOMAINS
from tests.e2e.test_local_stack import PROVIDER_VARIABLES

LEADS = "domain,external_id\n" + "".join(f"{d},up-{i}\n" for i, d in enumerate(SHOWCASE_DOMAINS[:2]))
BODY = (LEADS + "not a domain!,up-x\n").encode()


def finished(api: httpx.Client, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def upload_enrich_and_export(stack: LocalStack) -> tuple[str, str]:
    """The whole path; returns the upload's key and the export's key (as the gateway's URLs name them)."""
    assert stack.api_key
    with httpx.Client(base_url=stack.url, timeout=30, headers={"X-API-Key": stack.api_key}) as api:
        grant = api.post("/uploads", json={"size_bytes": len(BODY), "filename": "leads.csv"}).json()
        assert grant["url"].startswith(f"{stack.url}/_blobs/uploads/default/{grant['upload_id']}.csv?")
        with httpx.Client(timeout=30) as anonymous:  # the URL is the credential: no API key
            put = anonymous.put(grant["url"], content=BODY, headers=grant["headers"])
            assert put.status_code == 200, put.text
            again = anonymous.put(grant["url"], content=BODY + b"x", headers={"Content-Type": "text/csv"})
            assert again.status_code == 413
        created = api.post("/jobs", json={"upload_id": grant["upload_id"]})
        assert created.status_code == 202, created.text
        job = finished(api, created.json()["job_id"])
        assert job["status"] == "completed" and job["upload"]["state"] == "loaded"
        assert (job["upload"]["rows"], job["upload"]["refused"]) == (2, 1)
        assert job["upload"]["errors"][0]["line"] == 4 and job["upload"]["bytes_read"] == len(BODY)

        exported = api.post(f"/jobs/{job['job_id']}/exports").json()
        assert exported["rows"] == 2
        got = httpx.get(exported["url"], timeout=30)
    assert got.status_code == 200 and len(got.content) == exported["bytes"]
    assert got.headers["content-disposition"] == f'attachment; filename="{job["job_id"]}.csv"'
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert [(r["external_id"], r["status"]) for r in rows] == [("up-0", "found"), ("up-1", "found")]
    assert all(r["email"] for r in rows)
    upload_key = grant["url"].split("/_blobs/", 1)[1].split("?", 1)[0]
    return upload_key, exported["url"].split("/_blobs/", 1)[1].split("?", 1)[0]


@pytest.fixture(autouse=True)
def simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_the_embedded_stack_keeps_uploads_and_exports_under_its_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with LocalStack(StackOptions(state_dir=state)) as stack:
        upload_key, export_key = upload_enrich_and_export(stack)
        assert os.environ["LOCAL_BLOB_DIR"] == str(state.resolve() / BLOB_DIR)
    for key in (upload_key, export_key):
        assert stat.S_IMODE((state / BLOB_DIR / key).stat().st_mode) == 0o600
    secret = state / BLOB_SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) == 64
    kept = secret.read_text()
    with LocalStack(StackOptions(state_dir=state, process=False)):
        assert secret.read_text() == kept  # URLs made before a restart stay valid after it
    assert "LOCAL_BLOB_DIR" not in os.environ and "LOCAL_BLOB_URL" not in os.environ


def test_the_moto_stack_uses_a_temporary_folder_gone_at_stop(tmp_path: Path) -> None:
    environment = dict(os.environ)
    with LocalStack(StackOptions(aws=True, tick_seconds=0.3, state_dir=tmp_path / "state")) as stack:
        upload_enrich_and_export(stack)
        folder = Path(os.environ["LOCAL_BLOB_DIR"])
        assert folder.is_dir() and "UPLOAD_BUCKET" not in os.environ
    assert not folder.exists() and not (tmp_path / "state").exists()
    assert dict(os.environ) == environment
