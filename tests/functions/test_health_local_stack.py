"""`GET /health` on the local stack, over real HTTP through its gateway, as a laptop's uptime check sees it:
the embedded stack reports its SQLite state and the simulator's keys, the AWS-emulation stack (moto) its
table and every band's queue and DLQ. Each stack runs on a state in the test's tmp_path (never
`.enrich-state` in the working directory), one at a time (one stack per process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from enrich_tools.local.stack import LocalStack, StackOptions

PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)
BANDS = ("high", "normal", "low")


def health_of(options: StackOptions, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)  # the simulator, as `make run` without keys
    with LocalStack(options) as stack, httpx.Client(base_url=stack.url, timeout=30) as anonymous:
        answer = anonymous.get("/health")
        return answer.status_code, answer.json()


def test_the_embedded_stack_reports_its_state_and_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, answer = health_of(StackOptions(state_dir=tmp_path / "state"), monkeypatch)
    assert status == 200 and answer["status"] == "ok"
    dependencies = answer["dependencies"]
    assert set(dependencies) == {"state_db", "provider_keys"}
    assert dependencies["provider_keys"]["detail"] == "HUNTER_API_KEY and PERPLEXITY_API_KEY set"
    assert str(tmp_path) not in str(answer)


def test_the_aws_emulation_stack_reports_the_table_and_every_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = StackOptions(aws=True, state_dir=tmp_path / "state", process=False)
    status, answer = health_of(options, monkeypatch)
    assert status == 200 and answer["status"] == "ok"
    queues = {f"{kind}.{band}" for kind in ("queue", "dead_letter_queue") for band in BANDS}
    assert set(answer["dependencies"]) == {"table", "provider_keys"} | queues
    assert all(d["status"] == "ok" for d in answer["dependencies"].values())
