"""kill -9 in the middle of `enrich run`, then the same command again: nothing finished is paid for twice.

Given a world the simulator bills every request of (no free repeats), when one run is killed with SIGKILL
half-way and re-run on the same state, then the two runs together pay what one uninterrupted run pays,
give or take the calls that were in flight at the kill (their answers never arrived, so nobody could
keep them: at most one per item the processor was running, its concurrency), and every row's result is the
one the uninterrupted run gave. A resume that re-enriched finished leads would pay for about half the list
again and fail the bound.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enrich_tools.simulator import SimConfig, SimulatorServer

LEADS = 60
CONCURRENCY = 8  # PROCESSOR_CONCURRENCY for these runs: at most this many items in flight at the kill
PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)
# Paces well above the simulator's latency, so the run takes seconds and not minutes (the simulator's own
# limits are raised to match: this is about resuming, not pacing). 20/s each: 58 leads in about 4 s, so the
# output still grows by well under half the list between two of the run's one-second polls (the kill must
# land half-way, not after the end).
RATE_LIMITS = (
    "perplexity.responses=20/1200,hunter.domain_search=20/1200,hunter.email_finder=20/1200,"
    "hunter.email_verifier=20/1200"
)
# The simulator's per-second windows at twice those paces: at equal rates, jitter on loopback lets one call
# too many into a second now and then, and Hunter's 403 hands the item back until its invocation's budget is
# over; after the kill that hidden message outlives the dead process, and the resumed run idled ~20 s for it
# (a throttle is not billed: it changes no count this test checks).
HUNTER_RPS = 40


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    config = SimConfig(
        seed=11,
        time_scale=0.05,
        duplicate_requests_free=False,
        perplexity_rpm=5000,
        perplexity_qps=100,
        domain_search_rps=HUNTER_RPS,
        domain_search_rpm=5000,
        email_finder_rps=HUNTER_RPS,
        email_finder_rpm=5000,
        email_verifier_rps=HUNTER_RPS,
        email_verifier_rpm=5000,
    )
    with SimulatorServer(config) as server:
        yield server


def _leads_file(simulator: SimulatorServer, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["domain", "company_name", "external_id"])
        for n, lead in enumerate(simulator.world.sample_leads(LEADS, seed=5)):
            writer.writerow([lead.domain, lead.company_name or "", f"lead-{n:03d}"])
    return path


def _command(leads: Path, output: Path, state: Path) -> list[str]:
    run = ["run", "--input", str(leads), "--output", str(output), "--state", str(state)]
    return [sys.executable, "-m", "enrich_tools.cli", *run]


def _environment(simulator: SimulatorServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    return env | {
        "HUNTER_API_KEY": "sim-hunter-key",
        "PERPLEXITY_API_KEY": "sim-pplx-key",
        "HUNTER_API_BASE_URL": simulator.hunter_base_url,
        "PERPLEXITY_API_BASE_URL": simulator.perplexity_base_url,
        "RATE_LIMITS": RATE_LIMITS,
        "PROCESSOR_CONCURRENCY": str(CONCURRENCY),
    }


def _paid(simulator: SimulatorServer) -> dict[str, Any]:
    snapshot = simulator.ledger.snapshot()
    calls = snapshot["calls"]
    return {
        "searches": snapshot["credits_search"],
        "verifications": snapshot["credits_verification"],
        "perplexity": snapshot["perplexity_calls"],
        "finder_and_search_calls": calls.get("hunter.domain_search", 0) + calls.get("hunter.email_finder", 0),
    }


def _results(output: Path) -> dict[str, tuple[str, str | None]]:
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    return {
        r["external_id"]: (r["status"], (r["emails"][0]["email"] if r["emails"] else None)) for r in records
    }


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_a_killed_run_resumes_without_paying_again(simulator: SimulatorServer, tmp_path: Path) -> None:
    leads = _leads_file(simulator, tmp_path / "leads.csv")
    env = _environment(simulator)

    # The reference: one uninterrupted run on a state of its own.
    whole = tmp_path / "whole.jsonl"
    done = subprocess.run(
        _command(leads, whole, tmp_path / "state-whole"), env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    reference = _paid(simulator)
    expected = _results(whole)
    assert len(expected) == LEADS and reference["perplexity"] > CONCURRENCY  # a measure that can fail
    simulator.reset()

    # Killed half-way (SIGKILL: no handler runs), then the same command again.
    output, state = tmp_path / "out.jsonl", tmp_path / "state"
    process = subprocess.Popen(
        _command(leads, output, state), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while _lines(output) < LEADS // 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed half-way"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    streamed = output.read_text(encoding="utf-8").splitlines()
    assert LEADS // 2 <= len(streamed) < LEADS
    assert all(json.loads(line)["status"] for line in streamed)  # whole records only, each one parses

    resumed = subprocess.run(
        _command(leads, output, state), env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert _results(output) == expected

    paid = _paid(simulator)
    for what, reference_count in reference.items():
        assert reference_count <= paid[what] <= reference_count + CONCURRENCY, (what, paid, reference)
