"""The embedded local stack over real HTTP: the SQLite state, the gateway, the scheduler, the commands.

One stack serves the module, on a state directory of its own, its processor running back to back (only
one stack may run per process); `enrich run` and `enrich local up` start their own, so they run in a
subprocess, as a user runs them, each on a state in the test's tmp_path (never `.enrich-state` in the
working directory). The same stack over moto (`aws=True`) is in test_local_stack_aws.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrich_tools.cli import SIMULATED_BANNER, main
from enrich_tools.local import scheduler as scheduler_module
from enrich_tools.local.gateway import Gateway, create_app, http_event
from enrich_tools.local.scheduler import POLL_SECONDS, Scheduler
from enrich_tools.local.stack import LocalStack, StackError, StackOptions
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimulatorServer

ROOT = Path(__file__).resolve().parents[2]
KEY_SHAPE = re.compile(r"le_[A-Za-z0-9_-]{43}")
LEADS_CSV = ROOT / "examples" / "leads.csv"
PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The embedded stack (SQLite state, processor back to back), on a state of its own."""
    state = tmp_path_factory.mktemp("stack-state")
    with pytest.MonkeyPatch.context() as patch:
        for name in PROVIDER_VARIABLES:
            patch.delenv(name, raising=False)
        with LocalStack(StackOptions(state_dir=state)) as running:
            yield running


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.api_key
    with httpx.Client(base_url=stack.url, timeout=30, headers={"X-API-Key": stack.api_key}) as client:
        yield client


def wait_for(
    api: httpx.Client, job_id: str, status: str = "completed", timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").json()
        if job["status"] == status or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


# --- the gateway and the scheduler, over real HTTP ---------------------------------------------------------


def test_a_job_goes_api_to_queue_to_processor_and_back_over_http(api: httpx.Client) -> None:
    leads = [{"domain": d, "external_id": f"x-{i}"} for i, d in enumerate(SHOWCASE_DOMAINS[:3])]
    created = api.post("/jobs", json={"leads": [*leads, {"domain": "gmail.com"}], "tags": ["e2e"]})
    assert created.status_code == 202 and created.headers["x-simulated"] == "true"
    job = created.json()
    assert created.headers["location"] == f"/jobs/{job['job_id']}" and job["status"] == "pending"

    done = wait_for(api, job["job_id"])  # nobody ticks but the scheduler
    assert done["status"] == "completed" and done["counters"]["processed"] == 4
    assert done["counters"]["api_calls_hunter"] >= 1

    items = api.get(f"/jobs/{job['job_id']}/items").json()["items"]
    assert [i["lead"].get("external_id") for i in items] == ["x-0", "x-1", "x-2", None]
    assert [i["status"] for i in items] == ["found", "found", "found", "invalid"]
    listed = api.get("/jobs", params={"tag": "e2e", "status": "completed"}).json()["jobs"]
    assert [j["job_id"] for j in listed] == [job["job_id"]]
    assert api.get("/metrics").json()["queue_depth"] == 0


def test_the_gateway_returns_the_handlers_errors(api: httpx.Client) -> None:
    refused = api.post("/jobs", json={"leads": [{"domain": "acme.com"}, {"domain": "not a domain"}]})
    assert refused.status_code == 422 and refused.json()["field"] == "body.leads.1.domain"
    not_json = api.post("/jobs", content=b"{oops", headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["field"].startswith("body")
    assert (
        api.get("/jobs", params={"limit": "0"}).json()["field"] == "query.limit"
    )  # the query string arrives
    assert api.get("/jobs/job_nope").status_code == 404
    assert api.delete("/jobs/job_nope").status_code == 404
    assert api.get("/no/such/route").status_code == 404


def test_the_gateway_runs_the_authorizer_like_api_gateway(stack: LocalStack) -> None:
    """No key: 401 before the authorizer runs; a bad or unknown key: 403; the minted key: through, as the
    workspace "default". /health needs no key."""
    with httpx.Client(base_url=stack.url, timeout=30) as anonymous:
        missing = anonymous.get("/jobs")
        assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
        assert anonymous.post("/jobs", json={"domains": ["acme.com"]}).status_code == 401
        assert anonymous.get("/metrics").status_code == 401
        bad = anonymous.get("/jobs", headers={"X-API-Key": "not-a-key"})
        assert (bad.status_code, bad.json()) == (403, {"message": "Forbidden"})
        unknown = "le_" + "A" * 43
        assert anonymous.get("/jobs/job_x", headers={"X-API-Key": unknown}).status_code == 403
        # A workspace header set by the caller changes nothing: the workspace comes from the key only.
        spoofed = anonymous.get("/jobs", headers={"X-Workspace-Id": "default"})
        assert spoofed.status_code == 401
        assert anonymous.get("/health").json()["status"] == "ok"
        assert stack.api_key and KEY_SHAPE.fullmatch(stack.api_key)
        accepted = anonymous.get("/jobs", headers={"x-api-key": stack.api_key})  # any case, like AWS
        assert accepted.status_code == 200 and "jobs" in accepted.json()


def test_a_body_that_is_not_utf8_is_a_422(api: httpx.Client) -> None:
    answer = api.post(
        "/jobs", content=b'{"domains": ["caf\xe9.com"]}', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json()["field"] == "body"


def test_requests_become_api_gateway_v2_events_and_base64_goes_both_ways() -> None:
    event = http_event(
        "POST",
        "/jobs",
        "tag=a&tag=b&q=x%20y",
        [("Content-Type", "text/plain"), ("X-Twice", "1"), ("x-twice", "2"), ("Cookie", "a=1; b=2")],
        b"\xff\x00binary",
    )
    assert event["version"] == "2.0" and event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"] == {"content-type": "text/plain", "x-twice": "1,2"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"tag": "a,b", "q": "x y"}
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\xff\x00binary"
    text = http_event("GET", "/", "", [], "héllo".encode())
    assert (text["body"], text["isBase64Encoded"], text["queryStringParameters"]) == ("héllo", False, None)
    assert http_event("GET", "/", "", [], b"")["body"] is None

    seen: list[dict[str, Any]] = []

    def echo(event: dict[str, Any], context: object) -> dict[str, Any]:
        seen.append(event)
        body = base64.b64decode(event["body"]) if event["isBase64Encoded"] else b""
        return {
            "statusCode": 201,
            "headers": {"content-type": "application/octet-stream"},
            "cookies": ["session=1"],
            "body": base64.b64encode(body[::-1]).decode(),
            "isBase64Encoded": True,
        }

    with Gateway(create_app(echo)) as gateway:
        answer = httpx.post(f"{gateway.url}/echo?x=1", content=b"\x00\xfe\xff")
    assert answer.status_code == 201 and answer.content == b"\xff\xfe\x00"
    assert answer.headers["set-cookie"] == "session=1"
    assert seen[0]["rawPath"] == "/echo" and seen[0]["rawQueryString"] == "x=1"


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Polls `condition` until it holds or `timeout` passes (generous: the CI machine is loaded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("mode", ["periodic", "back to back"])
def test_the_scheduler_never_runs_two_ticks_at_once(mode: str) -> None:
    running, most, lock = 0, 0, threading.Lock()

    def slow_tick() -> dict[str, int]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return {"received": 1}

    if mode == "periodic":
        scheduler = Scheduler(slow_tick, interval=0.01)  # the interval is shorter than a tick
    else:
        scheduler = Scheduler(slow_tick, interval=None, due=lambda: 0.0)  # always work: run after run
    with scheduler:
        manual = [threading.Thread(target=scheduler.tick) for _ in range(4)]
        for thread in manual:
            thread.start()
        for thread in manual:
            thread.join()
        time.sleep(0.2)
    ticks = scheduler.ticks
    time.sleep(0.05)
    assert most == 1 and running == 0  # stop() waited for the tick in progress
    assert ticks >= 6 and scheduler.ticks == ticks  # and nothing ran after it


def test_a_failing_tick_is_logged_and_the_schedule_goes_on() -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    with Scheduler(flaky, interval=0.01) as scheduler:
        assert eventually(lambda: len(calls) > 2)
    assert scheduler.errors == 1 and len(calls) > 2


def test_the_scheduler_refuses_an_interval_it_cannot_keep() -> None:
    with pytest.raises(ValueError, match="positive"):
        Scheduler(lambda: None, interval=0)
    with pytest.raises(ValueError, match="`due` function"):
        Scheduler(lambda: None, interval=None)  # back to back, but nothing says when work is due


def test_back_to_back_runs_again_at_once_while_work_is_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    """`due` says 0 (a message is visible): the next run starts right after the last, with no poll in
    between (the poll is made 10 s long here: 20 runs in well under one poll prove it is skipped)."""
    monkeypatch.setattr(scheduler_module, "POLL_SECONDS", 10.0)
    runs: list[float] = []

    def tick() -> dict[str, int]:
        runs.append(time.monotonic())
        return {"received": 1}

    left = 20  # messages visible; each run takes one

    def due() -> float | None:
        return 0.0 if left - len(runs) > 0 else None

    started = time.monotonic()
    with Scheduler(tick, interval=None, due=due) as scheduler:
        assert eventually(lambda: len(runs) >= left, timeout=8.0), len(runs)
    assert scheduler.ticks == left == len(runs)  # and none once the queue was empty
    assert runs[-1] - started < 8.0  # less than one poll for all twenty


def test_back_to_back_waits_while_the_queue_is_empty_then_runs_when_work_shows() -> None:
    """`due` says None (nothing queued): no run for several polls; once a message is visible a run
    follows within a poll or so, and once it is taken nothing runs again."""
    queued = threading.Event()
    runs: list[float] = []

    def tick() -> dict[str, int]:
        runs.append(time.monotonic())
        queued.clear()  # the run took the message
        return {"received": 1}

    def due() -> float | None:
        return 0.0 if queued.is_set() else None

    with Scheduler(tick, interval=None, due=due) as scheduler:
        time.sleep(5 * POLL_SECONDS)
        assert runs == []  # idle: no run without work (before IDLE_TICK_SECONDS)
        queued.set()
        assert eventually(lambda: len(runs) == 1)
        time.sleep(5 * POLL_SECONDS)
        assert len(runs) == 1 and scheduler.errors == 0


def test_back_to_back_sleeps_until_a_hidden_message_becomes_visible() -> None:
    """`due` says 1.0 (a message hidden for another second, e.g. a retry later): no run before then."""
    visible_at = time.monotonic() + 1.0
    runs: list[float] = []

    def tick() -> dict[str, int]:
        runs.append(time.monotonic())
        return {"received": 1}

    def due() -> float | None:
        return None if runs else visible_at - time.monotonic()

    with Scheduler(tick, interval=None, due=due):
        assert eventually(lambda: len(runs) == 1)
    assert runs[0] >= visible_at - 0.05  # never early (late is fine on a loaded machine)


@pytest.mark.parametrize("outcome", ["raises", "receives nothing", "returns nothing"])
def test_back_to_back_backs_off_after_a_run_that_fails_or_finds_no_work(outcome: str) -> None:
    """`due` keeps saying work is visible but the runs fail or receive nothing: the scheduler waits
    BACKOFF_SECONDS between them instead of spinning (a few runs in half a second, not thousands)."""
    runs: list[float] = []

    def tick() -> dict[str, int] | None:
        runs.append(time.monotonic())
        if outcome == "raises":
            raise RuntimeError("boom")
        return {"received": 0} if outcome == "receives nothing" else None

    with Scheduler(tick, interval=None, due=lambda: 0.0) as scheduler:
        assert eventually(lambda: len(runs) >= 1)
        time.sleep(0.5)
    assert 1 <= len(runs) <= 2, len(runs)  # BACKOFF_SECONDS is 1 s: at most one more run in 0.5 s
    assert scheduler.errors == (len(runs) if outcome == "raises" else 0)


def test_stop_waits_for_the_run_in_progress_in_back_to_back_mode() -> None:
    started, finished = threading.Event(), threading.Event()

    def slow_tick() -> dict[str, int]:
        started.set()
        time.sleep(0.3)
        finished.set()
        return {"received": 1}

    scheduler = Scheduler(slow_tick, interval=None, due=lambda: 0.0).start()
    assert started.wait(10)
    scheduler.stop()
    assert finished.is_set()  # stop() returned only after the run ended
    ticks = scheduler.ticks
    time.sleep(0.2)
    assert scheduler.ticks == ticks  # and nothing ran after it


def test_only_one_stack_runs_in_a_process(stack: LocalStack, tmp_path: Path) -> None:
    with pytest.raises(StackError, match="already running"):
        LocalStack(StackOptions(state_dir=tmp_path / "other")).start()
    # The running stack's wiring is untouched: still the embedded state, on its own file.
    assert stack.state_db is not None and stack.state_db.is_file()
    assert os.environ["STATE_DB"] == str(stack.state_db) and os.environ["BACKEND"] == "embedded"
    assert "TABLE_NAME" not in os.environ and "QUEUE_URL" not in os.environ


def test_a_second_process_on_the_same_state_is_refused(stack: LocalStack, tmp_path: Path) -> None:
    """One process at a time holds a state directory: `enrich run` on the running stack's state stops
    with a message naming the holder instead of racing it, and sends nothing."""
    assert stack.state_db is not None
    state = stack.state_db.parent
    done = enrich_run(LEADS_CSV, tmp_path / "out.jsonl", state=state)
    assert done.returncode == 1, done.stderr
    assert f"the state {state} is in use by process {os.getpid()}" in done.stderr
    assert "pass another --state directory" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


# --- the command line against the running stack ------------------------------------------------------------


def test_jobs_create_wait_show_list(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.jsonl"
    url = ["--api-url", stack.url, "--api-key", str(stack.api_key)]
    assert (
        main(
            [
                "jobs",
                "create",
                "--csv",
                str(LEADS_CSV),
                "--wait",
                "--poll",
                "0.2",
                "--output",
                str(output),
                *url,
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    job_id = out.split()[0]
    assert job_id.startswith("job_") and SIMULATED_BANNER in out and "7/7 done, " in err  # the progress line
    assert "line 9: field 'domain'" in err  # the refused row is reported, not sent
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["external_id"] for r in records] == [f"lead-00{i}" for i in range(1, 9)]

    assert main(["jobs", "show", job_id, "--items", *url]) == 0
    shown = capsys.readouterr().out
    assert f"{job_id}: completed" in shown and "processed     7/7" in shown and "Hunter" in shown
    assert main(["jobs", "list", "--status", "completed", *url]) == 0
    assert job_id in capsys.readouterr().out
    assert main(["jobs", "show", job_id, "--json", *url]) == 0
    assert json.loads(capsys.readouterr().out)["job_id"] == job_id


def test_jobs_cancel_retry_and_redrive(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--api-url", stack.url, "--api-key", str(stack.api_key)]
    with stack.scheduler.paused():  # no tick may take the job before it is cancelled
        assert main(["jobs", "create", "--csv", str(LEADS_CSV), *url]) == 0
        job_id = capsys.readouterr().out.split()[0]
        assert main(["jobs", "cancel", job_id, *url]) == 0
    assert f"{job_id}: cancelled (0/7 processed)" in capsys.readouterr().out
    assert main(["jobs", "retry", job_id, *url]) == 0
    assert "0 failed or dead-lettered items requeued" in capsys.readouterr().out
    assert main(["dlq", "redrive", *url]) == 0
    assert "0 dead-lettered messages" in capsys.readouterr().out
    assert main(["jobs", "cancel", "job_nope", *url]) == 1
    assert "404 job job_nope not found" in capsys.readouterr().err
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ENRICH_API_KEY", raising=False)
        assert main(["jobs", "list", "--api-url", stack.url]) == 1
    assert "401 Unauthorized (no API key: pass --api-key or set ENRICH_API_KEY" in capsys.readouterr().err
    assert main(["jobs", "list", "--api-url", stack.url, "--api-key", "le_" + "x" * 43]) == 1
    assert "403 Forbidden (the API key was refused" in capsys.readouterr().err


def test_a_wait_that_times_out_exits_3_and_still_reports_every_row(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run stopped early (the timeout passed) with some leads answered (the refused row is answered:
    `invalid`): 3, "some done", and every row is in the output, the unfinished ones saying so."""
    output = tmp_path / "late.jsonl"
    args = ["jobs", "create", "--csv", str(LEADS_CSV), "--wait", "--timeout", "0.3", "--poll", "0.1"]
    with stack.scheduler.paused():
        assert (
            main([*args, "--output", str(output), "--api-url", stack.url, "--api-key", str(stack.api_key)])
            == 3
        )
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["status"] for r in records] == ["failed"] * 7 + ["invalid"]
    assert records[0]["reason"] == (
        "not finished within the 0.3 s timeout; re-run to continue (still queued)"
    )
    assert "timed out after 0.3 s with jobs still running; re-run to continue" in capsys.readouterr().err


def test_a_wait_that_times_out_with_no_lead_answered_exits_1(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing done: every lead sent, none finished before the timeout (no refused row this time)."""
    csv_file = tmp_path / "valid.csv"
    csv_file.write_text(
        "domain,external_id\n" + "".join(f"{d},v-{n}\n" for n, d in enumerate(SHOWCASE_DOMAINS[:2]))
    )
    args = ["jobs", "create", "--csv", str(csv_file), "--wait", "--timeout", "0.3", "--poll", "0.1"]
    with stack.scheduler.paused():
        assert main([*args, "--api-url", stack.url, "--api-key", str(stack.api_key)]) == 1
    assert "timed out after 0.3 s" in capsys.readouterr().err


# --- enrich run, and the errors caught before any stack starts ---------------------------------------------


def enrich_run(
    csv_file: Path, output: Path, *, state: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`enrich run` in its own process (processor back to back, the default), with no provider variables
    but those in `env`, run from the output's folder on the state `state` (default: a `state` folder
    beside the output), so that nothing lands in the repository's working directory."""
    environment = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES} | dict(env or {})
    state = output.parent / "state" if state is None else state
    command = [sys.executable, "-m", "enrich_tools.cli", "run", "--input", str(csv_file)]
    return subprocess.run(
        [*command, "--output", str(output), "--state", str(state)],
        env=environment,
        cwd=output.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_enrich_run_writes_one_line_per_row_in_input_order(tmp_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    done = enrich_run(LEADS_CSV, output)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["external_id"] for r in records] == [f"lead-00{i}" for i in range(1, 9)]
    assert all(set(r) == {"line", "external_id", "domain", "status", "emails", "reason"} for r in records)
    assert [r["line"] for r in records] == list(range(2, 10))
    by_id = {r["external_id"]: r for r in records}
    assert by_id["lead-001"]["status"] == "found" and by_id["lead-001"]["emails"][0]["status"] == "active"
    assert by_id["lead-007"]["status"] == "invalid"  # gmail.com: sent, and ended invalid by the waterfall
    assert by_id["lead-008"]["status"] == "invalid" and "domain" in by_id["lead-008"]["reason"]
    assert SIMULATED_BANNER in done.stdout and "Cost: Hunter" in done.stdout
    assert "7/7 done, " in done.stderr and "back to back while work is due" in done.stderr
    assert not KEY_SHAPE.search(done.stdout + done.stderr)  # it used the stack's key and never showed it
    state = tmp_path / "state"
    assert f"state in {state}" in done.stderr and (state / "leadenrich.sqlite3").is_file()
    assert (state / "local-api-key").stat().st_mode & 0o077 == 0  # the kept key: its owner's only
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["results.jsonl", "state"]  # nothing else (no partial file left behind)


def test_enrich_run_uses_the_configured_providers_when_a_key_is_set(tmp_path: Path) -> None:
    """...and a second run of the same list on the same state pays for nothing again: the job is resumed
    (here: already complete), not sent again."""
    csv_file = tmp_path / "one.csv"
    csv_file.write_text(f"domain,external_id\n{SHOWCASE_DOMAINS[0]},only\n")
    keys = {"HUNTER_API_KEY": "sim-hunter-key"}
    with SimulatorServer(time_scale=0.0) as provider:
        keys["HUNTER_API_BASE_URL"] = provider.hunter_base_url
        done = enrich_run(csv_file, tmp_path / "out.jsonl", env=keys)
        assert done.returncode == 0, done.stderr
        assert provider.ledger.snapshot()["hunter_calls"] >= 1  # the run called this provider...
        paid = provider.ledger.calls("hunter") - provider.ledger.calls("hunter.account")
        assert paid >= 1
        again = enrich_run(csv_file, tmp_path / "again.jsonl", env=keys)
        assert again.returncode == 0, again.stderr
        # The same state: only the free key check (GET /account) again, no search or verification.
        assert provider.ledger.calls("hunter") - provider.ledger.calls("hunter.account") == paid
        assert provider.ledger.calls("hunter.account") == 2
    assert "SIMULATED" not in done.stdout + done.stderr  # ...and did not start a simulator of its own
    assert json.loads((tmp_path / "out.jsonl").read_text())["status"] == "found"
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "out.jsonl").read_text()


def test_bad_arguments_and_unusable_csvs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_domain = tmp_path / "no-domain.csv"
    no_domain.write_text("homepage\nacme.com\n")  # "website" is an accepted name for the domain column
    out = str(tmp_path / "r.jsonl")
    state = ["--state", str(tmp_path / "state")]  # never reached: each error comes before any stack starts
    assert main(["run", "--input", str(no_domain), "--output", out, *state]) == 2
    assert f"{no_domain}: the header must have a 'domain' column" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    assert main(["run", "--input", str(missing), "--output", out, *state]) == 2
    assert f"{missing}: cannot read" in capsys.readouterr().err
    no_folder = str(tmp_path / "no" / "r.jsonl")
    assert main(["run", "--input", str(LEADS_CSV), "--output", no_folder, *state]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", "--input", str(LEADS_CSV), "--output", str(tmp_path / "r.xlsx"), *state]) == 2
    assert "cannot write a workbook" in capsys.readouterr().err
    assert main(["run", "--output", out, *state]) == 2
    assert "--input is required" in capsys.readouterr().err
    assert main(["run", "--resume", *state]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ENRICH_API_URL", raising=False)
        assert main(["jobs", "list"]) == 2
    assert "--api-url" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["run", "--input", str(LEADS_CSV), "--output", out, "--tick", "0", *state])
    assert exited.value.code == 2


def local_up(state: Path, cwd: Path) -> str:
    """Runs `enrich local up --state STATE` until it is ready, checks that the gateway takes the key it
    prints (and nothing without one), stops it with SIGTERM as a service manager would, and returns the
    key."""
    environment = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    command = [sys.executable, "-m", "enrich_tools.cli", "local", "up", "--state", str(state)]
    process = subprocess.Popen(
        command, env=environment, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        for line in process.stdout:
            printed.append(line)
            if "Ctrl-C to stop" in line:
                break
        text = "".join(printed)
        url = re.search(r"API: (http://127\.0\.0\.1:\d+)", text)
        assert url, text
        printed_key = KEY_SHAPE.search(text)
        if printed_key:  # made by this start: shown once, in full
            key = printed_key[0]
            assert f"ENRICH_API_KEY={key}" in text and f"kept in {state}" in text
        else:  # kept from an earlier start: its prefix and where it is, never the key again
            key = (state / "local-api-key").read_text().strip()
            assert f"{key[:11]}… in {state / 'local-api-key'}" in text, text
            assert f'ENRICH_API_KEY="$(cat {state / "local-api-key"})"' in text
        assert "back to back while work is due" in text
        assert httpx.get(f"{url[1]}/jobs", timeout=10).status_code == 401
        listed = httpx.get(f"{url[1]}/jobs", headers={"X-API-Key": key}, timeout=10)
        assert listed.status_code == 200 and listed.json()["jobs"] == []
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert process.returncode == 0
    return key


def test_local_up_prints_a_key_that_the_api_accepts_and_keeps_it(tmp_path: Path) -> None:
    """`enrich local up` mints a key for the workspace "default" on a new state, prints it, and the
    gateway takes it; restarted on the same state it prints the same key (kept there, owner-only)."""
    state = tmp_path / "state"
    first = local_up(state, tmp_path)
    assert (state / "local-api-key").read_text().strip() == first
    assert (state / "local-api-key").stat().st_mode & 0o077 == 0
    assert local_up(state, tmp_path) == first
