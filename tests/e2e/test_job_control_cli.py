"""`enrich jobs` job control against the embedded local stack over real HTTP: a scheduled job, pause and
resume, an update that moves its schedule, and a bulk action answered per job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from enrich_tools.cli import main
from enrich_tools.local.stack import LocalStack, StackOptions

ROOT = Path(__file__).resolve().parents[2]
LEADS_CSV = ROOT / "examples" / "leads.csv"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("control-state")
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "HUNTER_API_KEY",
            "PERPLEXITY_API_KEY",
            "HUNTER_API_BASE_URL",
            "PERPLEXITY_API_BASE_URL",
        ):
            patch.delenv(name, raising=False)
        with LocalStack(StackOptions(state_dir=state)) as running:
            yield running


def job_of(stack: LocalStack, job_id: str) -> dict[str, object]:
    with httpx.Client(base_url=stack.url, headers={"X-API-Key": str(stack.api_key)}) as api:
        job: dict[str, object] = api.get(f"/jobs/{job_id}").json()
        return job


def wait_for(stack: LocalStack, job_id: str, status: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while (job := job_of(stack, job_id))["status"] != status and time.monotonic() < deadline:
        time.sleep(0.1)
    return job


def test_schedule_pause_resume_update_and_bulk_from_the_command_line(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--api-url", stack.url, "--api-key", str(stack.api_key)]
    later = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    with stack.scheduler.paused():
        assert (
            main(["jobs", "create", "--csv", str(LEADS_CSV), "--run-at", later, "--priority", "2", *url]) == 0
        )
        job_id = capsys.readouterr().out.split()[0]
        job = job_of(stack, job_id)
        assert job["status"] == "pending" and job["options"]["run_at"] is not None  # type: ignore[index]

        assert main(["jobs", "pause", job_id, *url]) == 0
        assert f"{job_id}: pause done (now paused)" in capsys.readouterr().out
    time.sleep(1.5)  # a tick or more: a paused, scheduled job does not start
    assert job_of(stack, job_id)["status"] == "paused"

    # Due now, a cap, and resumed in one request; the next ticks release and run it.
    now = datetime.now(UTC).isoformat()
    assert main(["jobs", "update", job_id, "--run-at", now, "--max-credits", "500", "--resume", *url]) == 0
    assert f"{job_id}: pending, priority 2" in capsys.readouterr().out
    done = wait_for(stack, job_id, "completed")
    assert done["status"] == "completed", done
    assert done["options"]["max_credits"] == 500  # type: ignore[index]

    assert main(["jobs", "bulk", "pause", job_id, "job_nope", *url]) == 1  # not every job changed
    out = capsys.readouterr().out
    assert f"{job_id}: pause conflict" in out and "job_nope: pause not_found" in out
    assert main(["jobs", "update", job_id, *url]) == 2
    assert "nothing to change" in capsys.readouterr().err
