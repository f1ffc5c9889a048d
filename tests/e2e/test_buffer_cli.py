"""`enrich buffer ...` and `enrich person` against the embedded local stack (`make run`: SQLite state, the
simulator as the providers) over real HTTP: a CSV pushed, leads served enriched (a run's retry gets its
lead back), listed, a cursor stored, a person looked up and then answered from the cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from enrich_tools.cli import main
from enrich_tools.local.stack import LocalStack, StackOptions


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("buffer-state")
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


def run(stack: LocalStack, capsys: pytest.CaptureFixture[str], *command: str) -> Any:
    assert main([*command, "--api-url", stack.url, "--api-key", str(stack.api_key)]) == 0
    return json.loads(capsys.readouterr().out)


def test_push_serve_list_and_look_up_from_the_command_line(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "domain,company_name,first_name,last_name,email,list\n"
        "acme-robotics.com,Acme Robotics,,,,q3\n"
        "brightlane.co.uk,,,,,\n"
        "acme-robotics.com,,,,,\n",
        encoding="utf-8",
    )
    pushed = run(stack, capsys, "buffer", "push", "--namespace", "q3", "--csv", str(leads))
    assert pushed == {
        "buffered": 2,
        "skipped_already_served": 0,
        "skipped_already_buffered": 1,
        "skipped_suppressed": 0,
    }
    first = run(stack, capsys, "buffer", "next", "--namespace", "q3", "--run", "r1")
    assert first["lead"]["data"] == {"list": "q3"} and first["lead"]["enrichment_status"] == "completed"
    assert run(stack, capsys, "buffer", "next", "--namespace", "q3", "--run", "r1") == first
    assert run(stack, capsys, "buffer", "next", "--namespace", "q3")["lead"]["domain"] == "brightlane.co.uk"
    assert run(stack, capsys, "buffer", "next", "--namespace", "q3") == {"found": False}
    listed = run(stack, capsys, "buffer", "leads", "--namespace", "q3")
    assert [lead["domain"] for lead in listed["leads"]] == ["brightlane.co.uk", "acme-robotics.com"]
    assert run(stack, capsys, "buffer", "cursor", "q3", "--set", '{"page": 2}')["state"] == {"page": 2}
    assert run(stack, capsys, "buffer", "cursor", "q3")["state"] == {"page": 2}
    person = run(stack, capsys, "person", "sarah.obrien@acme-robotics.com")
    assert person["found"] is True and person["cached"] is False and person["title"] == "CEO"
    assert run(stack, capsys, "person", "sarah.obrien@acme-robotics.com")["cached"] is True
