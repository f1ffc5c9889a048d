"""`enrich erase`: through the embedded stack's API on a local state (the route, its audit entry and the
receipt printed), and what it refuses before calling anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enrich_tools.cli import main
from leadenrich.privacy.identity import email_identity
from leadenrich.sqlite.db import Database
from tests.support.erasure_world import sqlite_text

ADDRESS = "daniel.kim@acme-robotics.com"  # the simulator's acme-robotics CTO


def test_an_erasure_on_the_local_state_leaves_nothing_of_the_person_and_prints_its_receipt_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a person enriched by `enrich run` on a local state (its own simulator), when `enrich erase`
    erases their address there, then the state's job items and cache hold nothing of them, and the receipt
    printed names them masked and hashed only."""
    state, leads = tmp_path / "state", tmp_path / "leads.csv"
    leads.write_text("domain,first_name,last_name\nacme-robotics.com,Daniel,Kim\n", encoding="utf-8")
    assert (
        main(["run", "--input", str(leads), "--output", str(tmp_path / "out.csv"), "--state", str(state)])
        == 0
    )
    db = Database.in_dir(state)
    assert ADDRESS in sqlite_text(db)
    capsys.readouterr()

    assert main(["erase", "--state", str(state), "--email", ADDRESS]) == 0

    printed = capsys.readouterr().out
    assert "erased email d***@acme-robotics.com in workspace default" in printed
    assert email_identity(ADDRESS).key in printed and ADDRESS not in printed
    assert "job_items        0 removed, 1 changed" in printed
    text = sqlite_text(db).casefold()  # every table of the file: the audit trail and the lists included
    assert not [t for t in ("daniel.kim", "daniel kim", "daniel-kim") if t in text]
    db.close()
    assert main(["erase", "--state", str(state), "--email", ADDRESS, "--json"]) == 0
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["new_suppressions"] == 0 and receipt["target"] == "d***@acme-robotics.com"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["erase", "--api-url", "ftp://api.example.com", "--email", ADDRESS], "must start with http"),
        (["erase", "--api-url", "http://127.0.0.1:9", "--email", ADDRESS], "cannot reach the API"),
    ],
)
def test_a_bad_api_url_is_said_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_exactly_one_target_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["erase"], ["erase", "--email", ADDRESS, "--domain", "acme-robotics.com"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
    assert "--email" in capsys.readouterr().err
