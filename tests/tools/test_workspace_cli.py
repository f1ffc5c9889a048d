"""`enrich workspace settings show|set` against a stack's table (moto standing in for the deployed one) and
against the local state's SQLite file: what it sets is what `GET /settings` answers and what the local
processor's retention reads; a refused option is named, in one line, exit 2."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from enrich_tools.cli import main
from leadenrich import runtime
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.settings import SqliteWorkspaceSettings
from tests.support.api_stack import TABLE, call
from tests.tools.test_keys_cli_errors import bare_aws  # noqa: F401  # fixture: no AWS configuration at all


def test_set_and_show_on_a_stack_s_table(stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    table = ["--table", TABLE]
    assert main(["workspace", "settings", "show", "--workspace", "acme", *table]) == 0
    out = capsys.readouterr().out
    assert "workspace acme" in out and "results retention: 90 days  (default)" in out
    assert "refused countries: none" in out

    argv = ["workspace", "settings", "set", "--workspace", "acme", "--results-retention-days", "30"]
    argv += ["--refused-countries", "ru, by", "--review-required", "yes", "--lawful-basis", "consent", *table]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "results retention: 30 days\n" in out and "refused countries: RU, BY" in out
    assert "review required: yes" in out and "default lawful basis: consent" in out

    runtime.reset()
    status, body, _ = call("GET", "/settings", workspace="acme")
    assert (
        status == 200 and body["results_retention_days"] == 30 and body["refused_countries"] == ["RU", "BY"]
    )
    assert main(["workspace", "settings", "show", "--workspace", "acme", "--json", *table]) == 0
    assert json.loads(capsys.readouterr().out) == body  # what GET /settings answers

    clear = ["workspace", "settings", "set", "--workspace", "acme", "--refused-countries", "", *table]
    assert main(clear) == 0
    _, body, _ = call("GET", "/settings", workspace="acme")
    assert body["refused_countries"] == [] and body["results_retention_days"] == 30  # the rest kept


def test_settings_set_locally_are_the_local_stack_s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Database.in_dir(tmp_path).close()  # a state `enrich local up` made
    argv = ["workspace", "settings", "set", "--workspace", "acme", "--cache-retention-days", "7"]
    assert main([*argv, "--state", str(tmp_path)]) == 0
    assert "cache retention: 7 days" in capsys.readouterr().out
    db = Database.in_dir(tmp_path)
    try:
        stored = asyncio.run(SqliteWorkspaceSettings(db).all())
    finally:
        db.close()
    assert stored == {"acme": WorkspaceSettings(cache_retention_days=7)}


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (
            ["--results-retention-days", "0"],
            "--results-retention-days: Input should be greater than or equal",
        ),
        (["--audit-retention-days", "4000"], "--audit-retention-days: Input should be less than or equal"),
        (["--flagged-countries", "DE,UK"], "--flagged-countries (entry 2): 'UK' is not an ISO 3166-1"),
        (["--refused-countries", "ZZ"], "--refused-countries (entry 1): 'ZZ' is not an ISO 3166-1"),
        ([], "nothing to set: give at least one of"),
    ],
)
def test_a_refused_option_is_named_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], words: str
) -> None:
    Database.in_dir(tmp_path).close()
    argv = ["workspace", "settings", "set", "--workspace", "acme", *options, "--state", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_argument_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Database.in_dir(tmp_path).close()
    state = ["--state", str(tmp_path)]
    assert main(["workspace", "settings", "show", "--workspace", "not a workspace", *state]) == 2
    assert "--workspace" in capsys.readouterr().err
    for bad in (["--results-retention-days", "soon"], ["--lawful-basis", "vital_interest"]):
        with pytest.raises(SystemExit) as refused:
            main(["workspace", "settings", "set", "--workspace", "acme", *bad, *state])
        assert refused.value.code == 2
        assert bad[0] in capsys.readouterr().err


@pytest.mark.usefixtures("bare_aws")
def test_no_aws_region_is_named_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "settings", "show", "--workspace", "acme", "--table", "leadenrich-dev"]) == 2
    assert "no AWS region" in capsys.readouterr().err
