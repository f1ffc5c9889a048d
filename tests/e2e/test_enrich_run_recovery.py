"""`enrich run` when something went wrong before or goes wrong during it: a folder that is not a state, an
output that is the input, a provider quota spent mid-run and raised again, a state holding another
unfinished job, a Hunter that cannot be reached, results read from a state another process holds,
readers that go away, Ctrl-C. Each run is a process of its own on a state directory of its own (see
test_enrich_run.py).
"""

from __future__ import annotations

import re
import signal
import sqlite3
import stat
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from enrich_tools.local.follow import TERMINAL_ITEM_STATUSES
from enrich_tools.simulator import SHOWCASE_DOMAINS, SimConfig, SimulatorServer
from tests.e2e.test_enrich_run import (
    TERMINAL,
    configured,
    enrich,
    enrich_run,
    jobs_in,
    leads_file,
    read_jsonl,
    start_enrich,
    stop,
)

DB_FILE = "leadenrich.sqlite3"
# Domains the simulator (seed 7, the one `enrich run` starts itself too) answers after one Domain Search
# each: runs over them stay short even when that search is slowed down. Another answer would only make a
# test slower, not wrong.
ONE_SEARCH_DOMAINS = (
    "acme-robotics.com",
    "globex-analytics.io",
    "brightlane.co.uk",
    "jones-data.com",
    "lumenfield-media.com",
    "faure-etudes.fr",
    "pivoine-numerique.fr",
    "kiesel.de",
    "taylor-data.co.uk",
    "white-energy.com",
    "garcia-analytics.com",
    "thompson-robotics.com",
)
OTHER_WORK = re.compile(r"this state has (\d+) other unfinished job\(s\) \((\S+)\) with (\d+) leads left")
FAILED_REASONS = "SELECT reason FROM job_items WHERE status IN ('failed', 'dead')"
RETRYING = re.compile(r"Retrying (\d+) leads of job (\S+) that failed last time")


# --- helpers ------------------------------------------------------------------------------------------------


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[str], what: str, seconds: float = 120
) -> None:
    """Poll `condition()` until true; fail if the process ends first or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"the process ended (exit {process.returncode}) before {what}:\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(0.05)


def lines_in(path: Path) -> int:
    return path.read_text(encoding="utf-8").count("\n") if path.exists() else 0


def db_rows(state: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query on a state's SQLite file (read while a run may be writing it: WAL lets it)."""
    with closing(sqlite3.connect(state / DB_FILE, timeout=30)) as db:
        return list(db.execute(sql).fetchall())


def terminal_items(state: Path) -> list[str]:
    """The external ids (x0, x1, ...) of the items that reached a terminal status; item n is row n."""
    statuses = ", ".join(f"'{s}'" for s in sorted(TERMINAL_ITEM_STATUSES))
    rows = db_rows(state, f"SELECT item_id FROM job_items WHERE status IN ({statuses})")
    return sorted(f"x{int(str(item_id))}" for (item_id,) in rows)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- arguments and the state directory ----------------------------------------------------------------------


def test_an_output_that_is_the_input_is_refused_and_the_input_is_left_as_it_was(tmp_path: Path) -> None:
    """Given a leads file, when --output names that same file (spelled another way), the run exits 2
    before anything starts, and the file is byte for byte what it was."""
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:2])
    before = leads.read_bytes()
    done = enrich(
        "run", "--input", leads, "--output", "./leads.csv", "--state", tmp_path / "state", cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert "that is the input file" in done.stderr
    assert leads.read_bytes() == before
    assert not (tmp_path / "state").exists()


def test_a_folder_holding_other_files_is_refused_as_a_state_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "README.md").write_text("# my project\n")
    folder.chmod(0o755)
    leads = leads_file(tmp_path / "leads.csv", ONE_SEARCH_DOMAINS[:1])
    done = enrich(
        "run", "--input", leads, "--output", tmp_path / "out.jsonl", "--state", folder, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    assert "not a state directory" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["README.md"]  # no .gitignore, lock or database
    assert (folder / "README.md").read_text() == "# my project\n"
    assert mode_of(folder) == 0o755
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("precreated", [False, True], ids=["new", "empty-folder-0755"])
def test_a_state_is_readable_by_its_owner_only(tmp_path: Path, precreated: bool) -> None:
    """Given the usual umask (022), a state made by a run, in a new folder or in an empty one made
    world-readable beforehand, ends owner-only: the folder 0700, the database without group or other
    bits (it holds names and addresses)."""
    state = tmp_path / "state"
    if precreated:
        state.mkdir()
        state.chmod(0o755)
    leads = leads_file(tmp_path / "leads.csv", ONE_SEARCH_DOMAINS[:1])
    done = enrich("run", "--input", leads, "--output", tmp_path / "out.jsonl", "--state", state, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mode_of(state) == 0o700
    databases = [p for p in state.iterdir() if p.name.startswith(DB_FILE)]  # with any -wal and -shm
    assert DB_FILE in {p.name for p in databases}
    assert {p.name: mode_of(p) & 0o077 for p in databases} == {p.name: 0 for p in databases}
    assert (state / ".gitignore").read_text().splitlines()[-1] == "*"


# --- the daily lead quota is the deployed service's, not a laptop's -----------------------------------------


def test_no_daily_lead_quota_is_counted_locally_unless_one_is_set(tmp_path: Path) -> None:
    """Given DAILY_LEAD_QUOTA unset (deployed, it defaults to 50,000 a day), a run is not counted against
    any quota: the state's quota table holds nothing."""
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:3])
    state = tmp_path / "state"
    with SimulatorServer(SimConfig(time_scale=0.0)) as sim:
        done = enrich_run(
            leads,
            tmp_path / "out.jsonl",
            state,
            cwd=tmp_path,
            env=configured(sim),
        )
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["found"] * 3
    tables = {name for (name,) in db_rows(state, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    counted = db_rows(state, "SELECT workspace_id, leads FROM lead_quota") if "lead_quota" in tables else []
    assert counted == []


def test_a_daily_lead_quota_set_in_the_environment_is_honoured(tmp_path: Path) -> None:
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:3])
    state = tmp_path / "state"
    with SimulatorServer(SimConfig(time_scale=0.0)) as sim:
        done = enrich_run(
            leads,
            tmp_path / "out.jsonl",
            state,
            cwd=tmp_path,
            env=configured(sim, DAILY_LEAD_QUOTA="2"),
        )
        searched = sim.ledger.calls("hunter.domain_search")
    assert done.returncode == 1, done.stderr
    assert "429 daily lead quota exceeded" in done.stderr
    assert searched == 0
    assert jobs_in(state) == []
    assert not (tmp_path / "out.jsonl").exists()


# --- a Hunter quota spent mid-run, then raised --------------------------------------------------------------


def test_a_rerun_after_the_hunter_quota_is_raised_retries_the_leads_that_failed(tmp_path: Path) -> None:
    """Given 20 leads and a Hunter plan with 4 searches, the first run ends early with most leads failed
    ("hunter switched off"). When the plan is raised and the same command runs again on the same state, it
    says how many failed leads it queues again, does not stop on the first run's switch-off reasons, and
    ends with every lead answered (exit 0, no failed row)."""
    state, output = tmp_path / "state", tmp_path / "out.jsonl"
    # Two at a time: the leads after the first refusal fail as switched off, as on a real run.
    with SimulatorServer(SimConfig(time_scale=0.0, search_credits=4)) as sim:
        env = configured(sim, PROCESSOR_CONCURRENCY="2")
        leads = leads_file(tmp_path / "leads.csv", [c.domain for c in sim.world.companies[:20]])
        args: list[str | Path] = ["run", "--input", leads, "--output", output, "--state", state]
        first = enrich(*args, cwd=tmp_path, env=env)
        assert first.returncode in (1, 3), first.stderr
        assert Counter(r["status"] for r in read_jsonl(output))["failed"] >= 12, first.stdout
        failed = [str(reason) for (reason,) in db_rows(state, FAILED_REASONS)]
        assert len(failed) >= 12 and any("switched off" in reason for reason in failed), failed

        assert "search_credits" in sim.configure(search_credits=100_000)
        again = enrich(*args, cwd=tmp_path, env=env)

    assert again.returncode == 0, again.stderr
    retried = RETRYING.search(again.stderr)
    assert retried is not None, again.stderr
    assert (int(retried[1]), retried[2]) == (len(failed), jobs_in(state)[0][0])
    assert "stopped" not in again.stderr and "switched off" not in again.stderr
    after = read_jsonl(output)
    assert [r["external_id"] for r in after] == [f"x{i}" for i in range(20)]
    assert all(r["status"] in TERMINAL - {"failed"} for r in after), Counter(r["status"] for r in after)
    assert len(jobs_in(state)) == 1  # the same job, continued


# --- another unfinished job on the state --------------------------------------------------------------------


def test_a_run_says_the_state_holds_another_unfinished_job_and_how_many_leads_it_has_left(
    tmp_path: Path,
) -> None:
    """Given a state where list A was interrupted after some of its leads, when list B runs on it, stderr
    names A's job and the number of leads A has left (the processor works on them too), and B completes."""
    state = tmp_path / "state"
    a_out, b_out = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a_leads = leads_file(tmp_path / "a.csv", ONE_SEARCH_DOMAINS[:8])
    b_leads = leads_file(tmp_path / "b.csv", ONE_SEARCH_DOMAINS[8:10])
    fast = (0.01, 0.01)
    paced = SimConfig(
        time_scale=1.0,
        latency_domain_search=(0.3, 0.3),
        latency_email_verifier=(0.3, 0.3),
        latency_email_finder=fast,
        latency_email_count=fast,
        latency_account=fast,
    )
    with SimulatorServer(paced) as sim:
        a_run = start_enrich(
            "run",
            "--input",
            a_leads,
            "--output",
            a_out,
            "--state",
            state,
            cwd=tmp_path,
            env=configured(sim, PROCESSOR_CONCURRENCY="1"),  # one lead at a time, 0.3 to 0.6 s each
        )
        try:
            wait_for(lambda: lines_in(a_out) >= 1, a_run, "list A's first lead was written")
            a_run.send_signal(signal.SIGINT)
            _, a_err = a_run.communicate(timeout=120)
        finally:
            stop(a_run)
        assert a_run.returncode == 130, a_err
        ((a_job, _),) = jobs_in(state)
        ((status, total, processed),) = db_rows(state, "SELECT status, total, processed FROM jobs")
        left = int(str(total)) - int(str(processed))
        assert status == "running" and 1 <= left < 8, (status, total, processed)

        # Every Domain Search now takes 1.5 s: none of A's leads can finish before B's run has counted
        # them, a fraction of a second after its processor starts.
        sim.configure(latency_domain_search=(1.5, 1.5), latency_email_verifier=fast)
        b_run = enrich(
            "run", "--input", b_leads, "--output", b_out, "--state", state, cwd=tmp_path, env=configured(sim)
        )
    assert b_run.returncode == 0, b_run.stderr
    other = OTHER_WORK.search(b_run.stderr)
    assert other is not None, b_run.stderr
    assert (int(other[1]), other[2], int(other[3])) == (1, a_job, left)
    records = read_jsonl(b_out)
    assert [r["external_id"] for r in records] == ["x0", "x1"]
    assert all(r["status"] in TERMINAL - {"failed"} for r in records)


# --- a Hunter that cannot be reached ------------------------------------------------------------------------


def test_an_unreachable_hunter_stops_the_run_before_any_job_is_made(tmp_path: Path) -> None:
    leads = leads_file(tmp_path / "leads.csv", SHOWCASE_DOMAINS[:2])
    state = tmp_path / "state"
    began = time.monotonic()
    done = enrich(
        "run",
        "--input",
        leads,
        "--output",
        tmp_path / "out.jsonl",
        "--state",
        state,
        "--timeout",
        "30",  # were the check to let the run go, it would end by itself, not at the test's timeout
        cwd=tmp_path,
        env={"HUNTER_API_KEY": "a-key", "HUNTER_API_BASE_URL": "http://127.0.0.1:9/v2"},  # port 9: closed
    )
    took = time.monotonic() - began
    assert done.returncode == 1, done.stderr
    assert "HUNTER_API_BASE_URL" in done.stderr and "cannot be reached" in done.stderr
    assert took < 40  # three quick refusals a second apart, not a timeout per lead
    assert jobs_in(state) == []
    assert not (tmp_path / "out.jsonl").exists()


# --- enrich jobs results beside a running stack -------------------------------------------------------------


def test_jobs_results_reads_a_state_that_local_up_holds(tmp_path: Path) -> None:
    state = tmp_path / "state"
    leads = leads_file(tmp_path / "leads.csv", ONE_SEARCH_DOMAINS[:2])
    run = enrich("run", "--input", leads, "--output", tmp_path / "run.jsonl", "--state", state, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    ((job_id, _),) = jobs_in(state)

    holder = start_enrich("local", "up", "--state", state, "--tick", "60", cwd=tmp_path)
    try:
        assert holder.stdout is not None
        printed = []
        for line in holder.stdout:
            printed.append(line)
            if "Ctrl-C to stop" in line:
                break
        assert printed and "Ctrl-C to stop" in printed[-1], "".join(printed) + holder.communicate()[1]
        results = tmp_path / "results.jsonl"
        done = enrich("jobs", "results", job_id, "--state", state, "--output", results, cwd=tmp_path)
        assert holder.poll() is None  # still holding the state
    finally:
        stop(holder)
    assert done.returncode == 0, done.stderr
    expected = [(r["external_id"], r["status"], r["emails"]) for r in read_jsonl(tmp_path / "run.jsonl")]
    assert [(r["external_id"], r["status"], r["emails"]) for r in read_jsonl(results)] == expected


def test_jobs_results_on_a_missing_state_creates_nothing(tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    done = enrich("jobs", "results", "job_x", "--state", tmp_path / "missing", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "no local state" in done.stderr
    assert sorted(tmp_path.iterdir()) == before


# --- readers that go away -----------------------------------------------------------------------------------


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_reader_that_goes_away_changes_nothing(tmp_path: Path, closed: str) -> None:
    """`enrich run ... | true` (stdout closed before anything is printed) and `enrich run ... 2>&1 >/dev/null
    | head -1` (stderr closed after its first line): the run still ends with exit 0 and the whole output
    file in input order."""
    output = tmp_path / "out.jsonl"
    with SimulatorServer(SimConfig(time_scale=0.0)) as sim:
        leads = leads_file(tmp_path / "leads.csv", ONE_SEARCH_DOMAINS[:10])
        run = start_enrich(
            "run",
            "--input",
            leads,
            "--output",
            output,
            "--state",
            tmp_path / "state",
            cwd=tmp_path,
            env=configured(sim),
        )
        rest = read_after_closing(run, closed)
    assert run.returncode == 0, rest
    records = read_jsonl(output)
    assert [r["external_id"] for r in records] == [f"x{i}" for i in range(10)]
    assert all(r["status"] in TERMINAL - {"failed"} for r in records)


def read_after_closing(run: subprocess.Popen[str], closed: str) -> str:
    """Close the run's `closed` stream as its reader going away would, wait for the run to end and return
    what the other stream said."""
    try:
        assert run.stdout is not None and run.stderr is not None
        if closed == "stdout":
            run.stdout.close()
            _, rest = run.communicate(timeout=120)  # stderr, read to the end
        else:
            first = run.stderr.readline()
            assert "leads.csv" in first
            run.stderr.close()
            rest, _ = run.communicate(timeout=120)
    finally:
        stop(run)
    return rest


# --- Ctrl-C -------------------------------------------------------------------------------------------------


def test_ctrl_c_writes_every_lead_the_state_finished_and_starts_no_new_one(tmp_path: Path) -> None:
    """Given 40 leads processed four at a time against a slow simulator, when Ctrl-C comes after the first
    leads are out, the run exits 130; every item the state holds as finished is in the output file (the
    ones finished while quiescing included), no lead is left half done, and at most the leads in flight
    at the signal finished after it: the processor took no new one."""
    concurrency = 4
    state, output = tmp_path / "state", tmp_path / "out.jsonl"
    with SimulatorServer(SimConfig(time_scale=0.3)) as sim:
        leads = leads_file(tmp_path / "leads.csv", [c.domain for c in sim.world.companies[:40]])
        run = start_enrich(
            "run",
            "--input",
            leads,
            "--output",
            output,
            "--state",
            state,
            cwd=tmp_path,
            env=configured(sim, PROCESSOR_CONCURRENCY=str(concurrency)),
        )
        try:
            wait_for(lambda: lines_in(output) >= 3, run, "the first leads were written")
            at_signal = len(terminal_items(state))
            run.send_signal(signal.SIGINT)
            _, err = run.communicate(timeout=120)
        finally:
            stop(run)
    assert run.returncode == 130, err
    finished = terminal_items(state)
    written = [r["external_id"] for r in read_jsonl(output)]
    assert sorted(written) == finished  # each finished lead once, none missing
    assert db_rows(state, "SELECT item_id FROM job_items WHERE status = 'running'") == []  # all finished
    # In flight at the signal: at most `concurrency`; one more slot may have been refilled in the instant
    # between reading the state and the signal arriving.
    assert len(finished) <= at_signal + concurrency + 1, (at_signal, len(finished))
    assert len(finished) < 40


# --- the timeout --------------------------------------------------------------------------------------------


def test_a_run_that_times_out_takes_no_new_lead_and_reports_none_it_finished_as_unfinished(
    tmp_path: Path,
) -> None:
    """Given 12 leads two at a time, each at least 0.4 s, and --timeout 1, the run gives up (exit 3) with
    leads left for the next run: no lead the state holds as finished is reported as not finished, and the
    processor took no new lead once the run gave up (like Ctrl-C)."""
    state, output = tmp_path / "state", tmp_path / "out.jsonl"
    fast = (0.01, 0.01)
    paced = SimConfig(
        time_scale=1.0,
        latency_domain_search=(0.4, 0.4),
        latency_email_verifier=(0.2, 0.2),
        latency_email_finder=fast,
        latency_email_count=fast,
        latency_account=fast,
    )
    with SimulatorServer(paced) as sim:
        leads = leads_file(tmp_path / "leads.csv", ONE_SEARCH_DOMAINS)
        done = enrich_run(
            leads,
            output,
            state,
            "--timeout",
            "1",
            cwd=tmp_path,
            env=configured(sim, PROCESSOR_CONCURRENCY="2"),
        )
    assert done.returncode == 3, done.stderr
    assert "timed out after 1 s" in done.stderr
    finished = set(terminal_items(state))
    reported_unfinished = {
        r["external_id"] for r in read_jsonl(output) if "not finished within" in str(r["reason"])
    }
    assert reported_unfinished, "every lead finished within the timeout: the test proves nothing"
    assert finished.isdisjoint(reported_unfinished), sorted(finished & reported_unfinished)
    # At most 2 leads of 0.4 s at a time: within 1 s and the leads then in flight, fewer than 12.
    assert len(finished) < len(ONE_SEARCH_DOMAINS), len(finished)
