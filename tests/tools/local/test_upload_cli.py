"""`enrich jobs create --csv` through an upload, end to end on the embedded stack: the file PUT to the
gateway's presigned URL, ONE job read by the processor, every row's result in the input's order, and
refusals (the command's own and the API's) under the user's own line numbers.

One stack serves the module (the processor back to back; one stack per process). Most rows are webmail
addresses' domains, which end `invalid` without a provider call, so a few hundred rows finish in seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from enrich_tools.cli import main
from enrich_tools.local.client import ApiClient
from enrich_tools.local.reporting import FAILED
from enrich_tools.local.rows import CsvRow
from enrich_tools.local.runs import follow, records_in_order
from enrich_tools.local.stack import LocalStack, StackOptions
from enrich_tools.local.uploading import (
    Loaded,
    UploadedFile,
    UploadJob,
    create_upload_job,
    wait_loaded,
)
from enrich_tools.simulator import SHOWCASE_DOMAINS

PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("upload-stack") / "state"
    with pytest.MonkeyPatch.context() as patch:
        for name in PROVIDER_VARIABLES:
            patch.delenv(name, raising=False)
        with LocalStack(StackOptions(state_dir=state, handler_log_level=logging.WARNING)) as running:
            yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.api_key
    with httpx.Client(base_url=stack.url, timeout=30, headers={"X-API-Key": stack.api_key}) as client:
        yield client


@pytest.fixture
def client(stack: LocalStack) -> Iterator[ApiClient]:
    with ApiClient(stack.url, stack.api_key) as made:
        yield made


def url(stack: LocalStack) -> list[str]:
    return ["--api-url", stack.url, "--api-key", str(stack.api_key)]


def job_ids(api: httpx.Client) -> set[str]:
    return {job["job_id"] for job in api.get("/jobs", params={"limit": 200}).json()["jobs"]}


def leads_file(path: Path, webmail_rows: int) -> Path:
    """The showcase companies, then `webmail_rows` webmail leads, a row the command refuses (line 11) and
    a repeat of line 2 at the end."""
    lines = ["Website,First Name,Record ID"]
    lines += [f"{domain},,r-{n}" for n, domain in enumerate(SHOWCASE_DOMAINS[:5])]
    lines += [f"gmail.com,,r-{n}" for n in range(5, 5 + webmail_rows)]
    lines.insert(10, "not a domain!,,bad-1")
    lines.append(f"{SHOWCASE_DOMAINS[0]},,r-0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_forced_upload_makes_one_job_and_reports_every_row_in_order(
    stack: LocalStack, api: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given 302 rows (one refused here, one a repeat), when `jobs create --csv --upload --wait --output`
    runs, then one job is made from an upload of the 300 sendable rows, and the file has one record per
    input row, in input order, each with its own result: the refused row `invalid` under its line, the
    repeat with line 2's result."""
    source = leads_file(tmp_path / "leads.csv", webmail_rows=295)
    output = tmp_path / "out.jsonl"
    before = job_ids(api)
    command = ["jobs", "create", "--csv", str(source), "--upload", "--wait", "--poll", "0.2"]
    assert main([*command, "--timeout", "60", "--output", str(output), *url(stack)]) == 0
    out, err = capsys.readouterr()

    made = job_ids(api) - before
    assert len(made) == 1
    job_id = made.pop()
    assert out.startswith(f"{job_id}  300 leads uploaded (")
    view = api.get(f"/jobs/{job_id}").json()
    assert view["status"] == "completed" and view["counters"]["total"] == 300
    assert view["upload"]["state"] == "loaded" and view["upload"]["rows"] == 300
    assert view["upload"]["refused"] == 0
    assert "reading the upload: 300 rows read" in err
    assert "not sent (reported as invalid): " in err and "leads.csv line 11: field 'domain'" in err

    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["line"] for r in records] == list(range(2, 304))
    ids = [f"r-{n}" for n in range(9)] + ["bad-1"] + [f"r-{n}" for n in range(9, 300)] + ["r-0"]
    assert [r["external_id"] for r in records] == ids
    assert [r["status"] for r in records[:5]] == ["found", "found", "found", "risky", "found"]
    assert {r["status"] for r in records[5:-1]} == {"invalid"}
    assert records[9]["reason"].startswith("line 11: field 'domain'")
    webmail = [r for r in records[5:-1] if r["external_id"] != "bad-1"]
    assert all(r["reason"] == "gmail.com is a webmail domain, not a company's" for r in webmail)
    assert records[-1]["status"] == "found" and records[-1]["reason"].startswith("duplicate of line 2")
    assert records[-1]["emails"] == records[0]["emails"]


def test_rows_the_api_refuses_are_reported_under_the_users_lines(
    client: ApiClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given rows sent as they are (the command would refuse the bad one itself; an API of another
    version may refuse what this one accepts), one of whose names spans two lines of the upload, when
    the job is read, then the API's refusal is reported under the user's line 9 (the upload's line 4),
    and the results still pair each item with its row."""
    rows = [
        CsvRow(5, SHOWCASE_DOMAINS[0], "a", {"domain": SHOWCASE_DOMAINS[0], "external_id": "a"}),
        CsvRow(7, "yahoo.com", "b", {"domain": "yahoo.com", "first_name": "Mary\nAnn", "external_id": "b"}),
        CsvRow(9, "not a domain!", "c", {"domain": "not a domain!", "external_id": "c"}),
        CsvRow(12, "gmail.com", "d", {"domain": "gmail.com", "external_id": "d"}),
    ]
    job = create_upload_job(
        client, rows, "leads.csv", argparse.Namespace(tag=["api-refusal"], skip_existing=None)
    )
    assert job.file.starts == [2, 3, 5, 6]
    loaded = wait_loaded(client, job, rows, "leads.csv", 30, 0.1)
    assert isinstance(loaded, Loaded) and loaded.unread == 0
    err = capsys.readouterr().err
    assert "refused by the API (reported as invalid): leads.csv line 9: field 'domain': " in err
    assert [row.line for row in loaded.submitted[0].rows] == [5, 7, 12]
    refused = loaded.rows[2]
    assert refused.lead is None and refused.problem is not None
    assert (
        refused.problem.startswith("line 9: field 'domain': ") and "(refused by the API)" in refused.problem
    )

    followed = follow(client, loaded.submitted, timeout=30, poll=0.1)
    records = list(records_in_order(client, loaded.rows, loaded.submitted, followed))
    assert [(r["line"], r["external_id"], r["status"]) for r in records] == [
        (5, "a", "found"),
        (7, "b", "invalid"),
        (9, "c", "invalid"),
        (12, "d", "invalid"),
    ]
    assert records[2]["reason"] == refused.problem


def test_refusals_beyond_those_the_job_lists_are_found_from_its_items(
    client: ApiClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given 102 rows the API refuses among good ones (the job lists the first 100), when the job is read,
    then the two it does not list are found too, each under its own line, and the good rows keep their
    items in order."""
    rows = [
        CsvRow(
            line,
            "",
            f"x{line}",
            {"domain": "gmail.com" if line % 3 == 0 else "bad domain", "external_id": f"x{line}"},
        )
        for line in range(2, 155)
    ]
    job = create_upload_job(client, rows, "many.csv", argparse.Namespace(tag=[], skip_existing=None))
    loaded = wait_loaded(client, job, rows, "many.csv", 30, 0.1)
    assert isinstance(loaded, Loaded)
    bad = [row.line for row in rows if row.line % 3]
    assert len(bad) == 102
    assert [row.line for row in loaded.rows if row.lead is None] == bad
    unlisted = [row.line for row in loaded.rows if row.problem and "is not listed" in row.problem]
    assert unlisted == bad[-2:]
    assert [row.line for row in loaded.submitted[0].rows] == [line for line in range(2, 155) if line % 3 == 0]
    assert capsys.readouterr().err.count("refused by the API (reported as invalid): many.csv line ") == 102
    client.cancel_job(job.job_id)


def test_a_file_the_api_cannot_read_fails_the_command_with_its_reason(
    client: ApiClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given an upload that is not a CSV (UTF-16 text: NUL bytes), when its job is followed, then the
    command ends with exit code 1 and the job's failure, naming the line."""
    data = "domain\nacme.com\n".encode("utf-16")
    path = tmp_path / "utf16.csv"
    path.write_bytes(data)
    upload = client.create_upload(len(data), "utf16.csv", "text/csv")
    client.put_file(upload["url"], upload["headers"], path)
    job_id = str(client.post_job({"upload_id": upload["upload_id"]})["job_id"])
    job = UploadJob(job_id, UploadedFile(path, len(data), ("domain",), [], []))
    assert wait_loaded(client, job, [], str(path), 30, 0.1) == FAILED
    err = capsys.readouterr().err
    assert f"error: job {job_id} failed: the uploaded file could not be read: line 1: NUL bytes" in err
    assert client.get_job(job_id)["status"] == "failed"


def test_above_ten_thousand_rows_the_csv_goes_as_one_upload(
    stack: LocalStack, api: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given 10,001 sendable rows (a refused row and a repeat besides) and no --upload, when `jobs create
    --csv` runs, then it makes ONE job from an upload (not two inline jobs), with the command's options,
    pending with no items until the processor reads the file; then it holds all 10,001, waiting for its
    run_at (a day ahead: enriching them is the other tests' business)."""
    source = leads_file(tmp_path / "big.csv", webmail_rows=9_996)
    run_at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    before = job_ids(api)
    with stack.scheduler.paused():
        command = ["jobs", "create", "--csv", str(source), "--tag", "big", "--priority", "2"]
        assert main([*command, "--run-at", run_at.isoformat(), *url(stack)]) == 0
        out = capsys.readouterr().out
        made = job_ids(api) - before
        assert len(made) == 1
        job_id = made.pop()
        assert out.startswith(f"{job_id}  10001 leads uploaded (")
        view = api.get(f"/jobs/{job_id}").json()
        assert view["status"] == "pending" and view["counters"]["total"] == 0
        assert view["upload"]["state"] == "loading"
        assert view["options"]["tags"] == ["big"] and view["options"]["priority"] == 2
    deadline = time.monotonic() + 20
    while view["upload"]["state"] == "loading" and time.monotonic() < deadline:
        time.sleep(0.1)
        view = api.get(f"/jobs/{job_id}").json()
    assert view["upload"]["state"] == "loaded"
    assert view["upload"]["rows"] == view["counters"]["total"] == 10_001
    assert view["status"] == "pending" and view["counters"]["processed"] == 0
    api.delete(f"/jobs/{job_id}")


def test_what_does_not_go_with_an_upload_is_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--upload needs --csv; --skip-existing matches rows to stored leads, which an upload's rows are not:
    both are usage errors (exit 2), found before any request (the API URL answers nothing)."""
    nowhere = ["--api-url", "http://127.0.0.1:9"]
    assert main(["jobs", "create", "--domains", "acme.com", "--upload", *nowhere]) == 2
    assert "--upload goes with --csv" in capsys.readouterr().err
    source = tmp_path / "one.csv"
    source.write_text("domain\nacme.com\n", encoding="utf-8")
    assert main(["jobs", "create", "--csv", str(source), "--upload", "--skip-existing", *nowhere]) == 2
    assert "--skip-existing does not go with an upload" in capsys.readouterr().err
