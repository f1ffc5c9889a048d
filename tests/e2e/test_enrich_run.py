"""`enrich run` as a user runs it: a process of its own, on a state directory of its own (never the
repository's `.enrich-state`), against a provider simulator the test starts and whose ledger it reads, or,
without HUNTER_API_KEY, the simulator `enrich run` starts itself.

Exit codes under test (commands.py): 0 done, 1 nothing done, 2 bad input, 3 some failed or stopped early,
130 interrupted.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from enrich_tools.simulator import SHOWCASE_DOMAINS, SimConfig, SimulatorServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "leads.csv"
# What a developer's shell may hold that would send a run elsewhere than where the test says.
SCRUBBED = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
    "HUNTER_VERIFICATION_CREDIT",
    "RATE_LIMITS",
    "ENRICH_API_URL",
    "ENRICH_API_KEY",
    "SUPABASE_URL",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_ANON_KEY",
    "TABLE_NAME",
    # and what changes what the tests count on (each test sets its own)
    "DAILY_LEAD_QUOTA",
    "WORKSPACE_REQUESTS_PER_SECOND",
    "WORKSPACE_REQUEST_BURST",
    "PROCESSOR_CONCURRENCY",
    "QUEUE_WINDOW",
)
UMASK = 0o022  # the usual one: files and folders made without an explicit mode would be world-readable
TERMINAL = frozenset({"found", "risky", "not_found", "invalid", "failed", "skipped"})
EXAMPLE_CSV_HEADER = [
    # the example's own columns, as written
    "domain",
    "company_name",
    "first_name",
    "last_name",
    "external_id",
    # then the outcome; the input already has first_name and last_name, so the contact's are renamed
    "status",
    "reason",
    "email",
    "enrich_first_name",
    "enrich_last_name",
    "position",
    "source",
    "method",
    "confidence_score",
    "hunter_status",
    "email_status",
    "verified_at",
    "deliverability",
    "contact",
    "other_emails",
]


# --- helpers -----------------------------------------------------------------------------------------------


def environment(**values: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SCRUBBED} | values


def command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "enrich_tools.cli", *map(str, args)]


def enrich(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`enrich ARGS...` in its own process, in `cwd` (a temporary directory, so nothing lands in the
    repository), with the scrubbed environment plus `env`."""
    return subprocess.run(
        command(*args),
        cwd=cwd,
        env=environment(**(env or {})),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        umask=UMASK,
    )


def enrich_run(
    leads: str | Path,
    output: str | Path,
    state: str | Path,
    *more: str | Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`enrich run --input LEADS --output OUTPUT --state STATE MORE...`, as `enrich` runs it."""
    return enrich("run", "--input", leads, "--output", output, "--state", state, *more, cwd=cwd, env=env)


def _ctrl_c_as_in_a_terminal() -> None:
    """A command started from a shell script in the background (`make test &`, nohup) inherits SIGINT
    ignored, and Python then installs no KeyboardInterrupt handler: the Ctrl-C tests would pass or fail
    with how the suite was launched. The child gets the disposition a terminal gives it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_enrich(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`enrich ARGS...` started in the background, as a user's terminal runs it."""
    return subprocess.Popen(
        command(*args),
        cwd=cwd,
        env=environment(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=UMASK,
        preexec_fn=_ctrl_c_as_in_a_terminal,  # runs in the child between fork and exec
    )


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def configured(sim: SimulatorServer, **extra: str) -> dict[str, str]:
    """Variables that make `enrich run` use `sim` as the configured providers (no simulator of its own).
    Without PERPLEXITY_API_KEY the waterfall skips the Perplexity step (and its 1.26 s pace)."""
    return {
        "HUNTER_API_KEY": "sim-hunter-key",
        "HUNTER_API_BASE_URL": sim.hunter_base_url,
        "PERPLEXITY_API_BASE_URL": sim.perplexity_base_url,
    } | extra


def paid_calls(sim: SimulatorServer) -> dict[str, int]:
    """The ledger's calls but the free /account check."""
    calls: dict[str, int] = sim.ledger.snapshot()["calls"]
    return {name: n for name, n in calls.items() if name != "hunter.account"}


def leads_file(path: Path, domains: list[str] | tuple[str, ...]) -> Path:
    path.write_text("domain,external_id\n" + "".join(f"{d},x{i}\n" for i, d in enumerate(domains)))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jobs_in(state: Path) -> list[tuple[str, str | None]]:
    """(job_id, idempotency_key) of every job in a state, oldest first, read from its SQLite file."""
    with closing(sqlite3.connect(state / "leadenrich.sqlite3")) as db:
        rows = db.execute("SELECT job_id, idempotency_key FROM jobs ORDER BY created_at").fetchall()
    return [(str(job_id), key) for job_id, key in rows]


def without_verified_at(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r | {"emails": [{k: v for k, v in e.items() if k != "verified_at"} for e in r["emails"]]}
        for r in records
    ]


# --- the preflight: nothing is sent when the key or the plan cannot work -----------------------------------


def test_a_refused_hunter_key_stops_the_run_before_anything_is_sent(tmp_path: Path) -> None:
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:3])
    config = SimConfig(time_scale=0.0, accept_any_key=False, hunter_api_keys=("the-right-key",))
    with SimulatorServer(config) as sim:
        done = enrich_run(
            leads,
            tmp_path / "out.jsonl",
            tmp_path / "state",
            cwd=tmp_path,
            env=configured(sim, HUNTER_API_KEY="a-wrong-key"),
        )
        ledger = sim.ledger.snapshot()
    assert done.returncode == 1, done.stderr
    assert "HUNTER_API_KEY" in done.stderr and "nothing was sent" in done.stderr
    assert "a-wrong-key" not in done.stdout + done.stderr  # the key is named, never shown
    assert ledger["calls"] == {"hunter.account": 1}  # the free check only: no search, no verification
    assert ledger["statuses"] == {"hunter.account": {"401": 1}}
    assert ledger["perplexity_calls"] == 0
    assert not (tmp_path / "out.jsonl").exists()
    assert jobs_in(tmp_path / "state") == []  # no job was even created


def test_a_plan_with_no_search_credits_left_stops_the_run_before_anything_is_sent(tmp_path: Path) -> None:
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:3])
    with SimulatorServer(SimConfig(time_scale=0.0, search_credits=0)) as sim:
        done = enrich_run(
            leads,
            tmp_path / "out.jsonl",
            tmp_path / "state",
            cwd=tmp_path,
            env=configured(sim),
        )
        ledger = sim.ledger.snapshot()
    assert done.returncode == 1, done.stderr
    assert "the Hunter plan has no search credits left" in done.stderr
    assert ledger["calls"] == {"hunter.account": 1}
    assert not (tmp_path / "out.jsonl").exists()
    assert jobs_in(tmp_path / "state") == []


# --- the example file, and files that cannot be used -------------------------------------------------------


@dataclass
class ExampleRun:
    tmp: Path
    state: Path
    output: Path
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> ExampleRun:
    """examples/leads.csv to CSV, with no provider variables: `enrich run` starts its own simulator."""
    tmp = tmp_path_factory.mktemp("example")
    output = tmp / "results.csv"
    done = enrich("run", "--input", EXAMPLE, "--output", output, "--state", tmp / "state", cwd=tmp)
    return ExampleRun(tmp, tmp / "state", output, done)


def test_the_example_file_is_done_with_exit_0_on_the_runs_own_simulator(example_run: ExampleRun) -> None:
    done = example_run.done
    assert done.returncode == 0, done.stderr
    assert "SIMULATED DATA" in done.stdout  # no key set: its own simulator, and it says so
    assert "not sent (reported as invalid)" in done.stderr and "line 9" in done.stderr
    assert f"Results written to {example_run.output}" in done.stdout


def test_the_terminal_gets_the_table_not_the_handlers_log_lines(example_run: ExampleRun) -> None:
    """The local stack runs the Lambda handlers in-process: their JSON logs (one per lead) stay quiet."""
    for stream in (example_run.done.stdout, example_run.done.stderr):
        assert not [line for line in stream.splitlines() if line.startswith('{"level"')], stream[:500]


def test_the_csv_output_has_the_inputs_columns_then_the_outcome(example_run: ExampleRun) -> None:
    raw = example_run.output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a UTF-8 BOM, for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header == EXAMPLE_CSV_HEADER
    with EXAMPLE.open(encoding="utf-8", newline="") as handle:
        given = list(csv.reader(handle))[1:]
    assert [row[:5] for row in body] == given  # every input row, in input order, its cells as written
    by_id = {row[4]: dict(zip(header, row, strict=True)) for row in body}
    found = by_id["lead-001"]
    assert (found["domain"], found["status"], found["source"]) == (
        "acme-robotics.com",
        "found",
        "hunter_direct",
    )
    assert found["email"].endswith("@acme-robotics.com") and found["email_status"] == "active"
    assert found["enrich_first_name"] and int(found["confidence_score"]) > 80
    assert by_id["lead-002"]["domain"] == "https://www.Nordlicht-Energie.de/impressum"  # as the input has it
    assert by_id["lead-008"]["status"] == "invalid" and "line 9" in by_id["lead-008"]["reason"]
    assert by_id["lead-007"]["status"] == "invalid" and not by_id["lead-007"]["email"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            # neither a domain nor a company name column (a company name alone is resolved: company-data.md)
            "no-domain.csv",
            b"city,phone\nBerlin,123\n",
            "must have a 'domain' column",
            id="no-domain",
        ),
        pytest.param("empty.csv", b"", "empty", id="empty"),
        pytest.param("header-only.csv", b"domain,external_id\n", "no row can be sent", id="header-only"),
        pytest.param(
            "refused.csv", b"domain\nnot a domain\n-\n", "no row can be sent", id="every-row-refused"
        ),
        pytest.param("leads.xlsx", b"not a workbook", "not a readable .xlsx workbook", id="not-a-workbook"),
    ],
)
def test_an_unusable_leads_file_exits_2_and_touches_nothing(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    leads = tmp_path / name
    leads.write_bytes(content)
    done = enrich_run(
        leads,
        tmp_path / "out.jsonl",
        tmp_path / "state",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "state").exists() and not (tmp_path / "out.jsonl").exists()


# --- running again: the same command, --fresh, --resume ----------------------------------------------------


@dataclass
class Replay:
    tmp: Path
    state: Path
    output: Path
    env: dict[str, str]
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    paid: dict[str, dict[str, int]] = field(default_factory=dict)  # paid calls after each run
    accounts: dict[str, int] = field(default_factory=dict)  # /account checks after each run
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the output after each run
    jobs: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # the state's jobs after each


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    """Three leads run four times on one state against one simulator: `first`, `again` (the same command),
    `fresh` (with --fresh), `resume` (--resume, no --input or --output, the output deleted beforehand)."""
    tmp = tmp_path_factory.mktemp("replay")
    leads = leads_file(tmp / "leads.csv", SHOWCASE_DOMAINS[:3])
    state, output = tmp / "state", tmp / "out.jsonl"
    command: list[str | Path] = ["run", "--input", leads, "--output", output, "--state", state]
    with SimulatorServer(SimConfig(time_scale=0.0)) as sim:
        replayed = Replay(tmp, state, output, configured(sim))
        runs: tuple[tuple[str, list[str | Path]], ...] = (
            ("first", command),
            ("again", command),
            ("fresh", [*command, "--fresh"]),
            ("resume", ["run", "--resume", "--state", state]),
        )
        for name, args in runs:
            if name == "resume":
                output.unlink(missing_ok=True)
            replayed.runs[name] = enrich(*args, cwd=tmp, env=replayed.env)
            replayed.paid[name] = paid_calls(sim)
            replayed.accounts[name] = sim.ledger.calls("hunter.account")
            replayed.records[name] = read_jsonl(output) if output.exists() else []
            replayed.jobs[name] = jobs_in(state)
        yield replayed


def test_the_same_command_again_calls_no_provider_and_gives_the_same_results(replay: Replay) -> None:
    first, again = replay.runs["first"], replay.runs["again"]
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert replay.paid["first"]["hunter.domain_search"] >= 3  # the first run did pay...
    assert replay.paid["again"] == replay.paid["first"]  # ...the second paid nothing more
    assert replay.accounts["again"] == replay.accounts["first"] + 1  # only the free key check
    assert [r["status"] for r in replay.records["first"]] == ["found"] * 3
    assert replay.records["again"] == replay.records["first"]
    assert replay.jobs["again"] == replay.jobs["first"] and len(replay.jobs["first"]) == 1  # the same job


def test_fresh_makes_a_new_job_answered_from_the_cache(replay: Replay) -> None:
    fresh = replay.runs["fresh"]
    assert fresh.returncode == 0, fresh.stderr
    assert len(replay.jobs["fresh"]) == 2 and replay.jobs["fresh"][0] == replay.jobs["first"][0]
    (old_key, new_key) = (key for _, key in replay.jobs["fresh"])
    assert old_key != new_key
    assert replay.paid["fresh"] == replay.paid["first"]  # cached answers: no provider paid again
    assert "Cost: Hunter 0 calls, 0 credits" in fresh.stdout  # and the new job says so
    assert without_verified_at(replay.records["fresh"]) == without_verified_at(replay.records["first"])


def test_fresh_keeps_when_a_cached_address_was_verified(replay: Replay) -> None:
    def verified(records: list[dict[str, Any]]) -> list[list[Any]]:
        return [[e["verified_at"] for e in r["emails"]] for r in records]

    assert replay.paid["fresh"] == replay.paid["first"]  # nothing was verified again...
    assert verified(replay.records["fresh"]) == verified(replay.records["first"])  # ...so nothing is newer


def test_resume_without_input_replays_the_last_run_on_the_state(replay: Replay) -> None:
    resumed = replay.runs["resume"]
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming the last run on {replay.state}" in resumed.stderr
    assert str(replay.output) in resumed.stderr
    # The last run was --fresh: --resume continues that job (its key is kept in the state), not the first.
    assert replay.records["resume"] == replay.records["fresh"]  # the output written again, that job's
    assert replay.jobs["resume"] == replay.jobs["fresh"]  # no new job
    assert replay.paid["resume"] == replay.paid["first"]


def test_resume_needs_a_run_on_the_state_and_input_needs_resume(tmp_path: Path) -> None:
    nothing = enrich("run", "--resume", "--state", tmp_path / "empty", cwd=tmp_path)
    assert nothing.returncode == 2 and "nothing to resume" in nothing.stderr
    no_input = enrich("run", "--output", tmp_path / "o.jsonl", "--state", tmp_path / "empty", cwd=tmp_path)
    assert no_input.returncode == 2 and "--input is required" in no_input.stderr
    assert not (tmp_path / "empty").exists()


def test_jobs_results_reads_a_finished_jobs_results_from_the_state(replay: Replay) -> None:
    job_id = replay.jobs["first"][0][0]
    output = replay.tmp / "job-results.jsonl"
    done = enrich(
        "jobs", "results", job_id, "--state", replay.state, "--output", output, cwd=replay.tmp, env=replay.env
    )
    assert done.returncode == 0, done.stderr
    records = read_jsonl(output)
    run = replay.records["first"]
    assert [(r["external_id"], r["domain"]) for r in records] == [
        (r["external_id"], r["domain"]) for r in run
    ]
    assert [(r["status"], r["emails"]) for r in records] == [(r["status"], r["emails"]) for r in run]
    missing = enrich("jobs", "results", "job_nope", "--state", replay.state, cwd=replay.tmp, env=replay.env)
    assert missing.returncode == 1 and "job_nope" in missing.stderr


def test_keys_made_on_a_state_are_listed_without_their_secret(replay: Replay, tmp_path: Path) -> None:
    made = enrich("keys", "create", "--state", replay.state, "--workspace", "w", "--json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["workspace_id"] == "w" and key["api_key"].startswith("le_")
    listed = enrich("keys", "list", "--state", replay.state, "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    keys = {k["key_id"]: k for k in json.loads(listed.stdout)}
    assert keys[key["key_id"]]["workspace_id"] == "w" and keys[key["key_id"]]["revoked_at"] is None
    assert "default" in {k["workspace_id"] for k in keys.values()}  # the one the run's stack made
    table = enrich("keys", "list", "--state", replay.state, cwd=tmp_path)
    assert table.returncode == 0 and key["key_id"] in table.stdout
    assert key["api_key"] not in listed.stdout + table.stdout  # made once, never shown again
    assert not (tmp_path / ".enrich-state").exists()


def test_keys_on_a_directory_with_no_state_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    listed = enrich("keys", "list", "--state", tmp_path / "empty", cwd=tmp_path)
    assert listed.returncode == 2 and "no local state in" in listed.stderr
    assert list((tmp_path / "empty").iterdir()) == []


# --- one process per state ---------------------------------------------------------------------------------


def test_a_state_another_process_holds_is_refused_and_free_again_once_it_stops(tmp_path: Path) -> None:
    state = tmp_path / "state"
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:1])
    holder = start_enrich("local", "up", "--state", state, "--tick", "60", cwd=tmp_path)
    try:
        assert holder.stdout is not None
        printed = []
        for line in holder.stdout:
            printed.append(line)
            if "Ctrl-C to stop" in line:
                break
        assert printed and "Ctrl-C to stop" in printed[-1], "".join(printed) + holder.communicate()[1]
        url = next(line.split("API: ")[1].strip() for line in printed if "API: " in line)

        # A key made on the state while the stack runs is accepted by it, for its own workspace only.
        made = enrich("keys", "create", "--state", state, "--workspace", "w", "--json", cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        jobs = httpx.get(f"{url}/jobs", headers={"X-API-Key": json.loads(made.stdout)["api_key"]}, timeout=30)
        assert jobs.status_code == 200 and jobs.json()["jobs"] == []

        refused = enrich(
            "run", "--input", leads, "--output", tmp_path / "out.jsonl", "--state", state, cwd=tmp_path
        )
        assert refused.returncode == 1, refused.stderr
        assert "in use" in refused.stderr and str(holder.pid) in refused.stderr
        assert not (tmp_path / "out.jsonl").exists()
    finally:
        stop(holder)
    assert holder.returncode == 0
    after = enrich(
        "run", "--input", leads, "--output", tmp_path / "out.jsonl", "--state", state, cwd=tmp_path
    )
    assert after.returncode == 0, after.stderr
    assert [r["status"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["found"]


# --- Ctrl-C ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("presses", [1, 2], ids=["ctrl-c", "ctrl-c-twice"])
def test_ctrl_c_keeps_every_finished_lead_and_the_same_command_completes_the_run(
    tmp_path: Path, presses: int
) -> None:
    """Given 20 leads against a simulator slow enough that the run takes a few seconds, 6 at a time (so that
    leads are still queued when the Ctrl-C comes: the local default, 32, would have them all in progress),
    when Ctrl-C comes after the first leads are out (once: the leads in progress are finished first;
    twice: at once), the run exits 130 with whole lines for the leads finished so far, and the same command
    then completes the run with each of those leads exactly as it was (replayed from the state, not
    enriched again)."""
    count = 20
    with SimulatorServer(SimConfig(time_scale=0.3)) as sim:
        domains = [company.domain for company in sim.world.companies[:count]]
        leads = leads_file(tmp_path / "leads.csv", domains)
        output = tmp_path / "out.jsonl"
        command: list[str | Path] = [
            "run",
            "--input",
            leads,
            "--output",
            output,
            "--state",
            tmp_path / "state",
        ]
        env = configured(sim, PROCESSOR_CONCURRENCY="6")
        run = start_enrich(*command, cwd=tmp_path, env=env)
        try:
            deadline = time.monotonic() + 120
            while not (output.exists() and output.read_text().count("\n") >= 3):
                assert run.poll() is None, run.communicate()[1]
                assert time.monotonic() < deadline, "no lead finished in time"
                time.sleep(0.05)
            for press in range(presses):
                if press:
                    time.sleep(0.5)
                run.send_signal(signal.SIGINT)
            _, err = run.communicate(timeout=120)
        finally:
            stop(run)
        assert run.returncode == 130, err
        assert "interrupted" in err
        text = output.read_text(encoding="utf-8")
        assert text.endswith("\n")  # no torn last line
        interrupted = [json.loads(line) for line in text.splitlines()]
        assert 3 <= len(interrupted) < count
        ids = [r["external_id"] for r in interrupted]
        assert len(set(ids)) == len(ids) and set(ids) <= {f"x{i}" for i in range(count)}
        assert all(r["status"] in TERMINAL for r in interrupted)

        again = enrich(*command, cwd=tmp_path, env=env)
        assert again.returncode == 0, again.stderr
        final = read_jsonl(output)
        assert [r["external_id"] for r in final] == [f"x{i}" for i in range(count)]
        assert all(r["status"] in TERMINAL - {"failed"} for r in final)
        by_id = {r["external_id"]: r for r in final}
        assert all(by_id[r["external_id"]] == r for r in interrupted)


# --- simulated data stays labelled -------------------------------------------------------------------------


def simulated_state(example_run: ExampleRun, tmp_path: Path) -> Path:
    """A copy of the state `example_run` filled from `enrich run`'s own simulator."""
    assert example_run.done.returncode == 0
    copy = tmp_path / "state"
    shutil.copytree(example_run.state, copy)
    return copy


def test_jobs_results_of_a_simulated_job_stay_labelled_whatever_the_environment(
    example_run: ExampleRun, tmp_path: Path
) -> None:
    state = simulated_state(example_run, tmp_path)
    job_id = jobs_in(state)[0][0]
    done = enrich(
        "jobs",
        "results",
        job_id,
        "--state",
        state,
        "--output",
        tmp_path / "r.jsonl",
        cwd=tmp_path,
        env={"HUNTER_API_KEY": "a-real-looking-key"},
    )
    assert done.returncode == 0, done.stderr
    assert "SIMULATED" in done.stdout


def test_a_run_on_real_providers_never_passes_off_a_simulated_job(
    example_run: ExampleRun, tmp_path: Path
) -> None:
    state = simulated_state(example_run, tmp_path)
    with SimulatorServer(SimConfig(time_scale=0.0)) as sim:
        done = enrich_run(
            EXAMPLE,
            tmp_path / "out.jsonl",
            state,
            cwd=tmp_path,
            env=configured(sim),
        )
        paid = paid_calls(sim)
    # Refused before anything is sent: the state holds the simulator's data.
    assert done.returncode == 1 and "never mix" in done.stderr, done.stderr
    assert not paid and not (tmp_path / "out.jsonl").exists()


def test_fresh_on_real_providers_never_answers_from_the_simulators_cache(
    example_run: ExampleRun, tmp_path: Path
) -> None:
    state = simulated_state(example_run, tmp_path)
    with SimulatorServer(SimConfig(time_scale=0.0)) as sim:
        done = enrich_run(
            EXAMPLE,
            tmp_path / "out.jsonl",
            state,
            "--fresh",
            cwd=tmp_path,
            env=configured(sim, PERPLEXITY_API_KEY="sim-pplx-key"),
        )
        paid = paid_calls(sim)
    # Refused before anything is sent: the state holds the simulator's data.
    assert done.returncode == 1 and "never mix" in done.stderr, done.stderr
    assert not paid and not (tmp_path / "out.jsonl").exists()
