"""`enrich suppress add|list|remove|import` against a stack's table (moto standing in for the deployed one)
and against the local state's SQLite file: what it adds is what `GET /suppressions` lists and what the
processor's screen reads; a CSV's columns are found by their usual names; bad rows are named, never
echoed."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrich_tools.cli import main
from leadenrich import runtime
from leadenrich.engine.screen import Address, Domain, Person, Subject
from leadenrich.privacy.identity import email_identity, person_identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason
from leadenrich.privacy.suppression import WorkspaceScreen
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList
from tests.support.api_stack import TABLE, call
from tests.tools.test_keys_cli_errors import bare_aws  # noqa: F401  # fixture: no AWS configuration at all


def test_add_list_and_remove_on_a_stack_s_table(stack: None, capsys: pytest.CaptureFixture[str]) -> None:
    table = ["--table", TABLE, "--workspace", "acme"]
    argv = ["suppress", "add", *table, "--email", "Ada@Acme.com", "--domain", "initech.example"]
    assert main([*argv, "--person", "Mary Ann", "Smith", "globex.io", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["added"] == 3
    assert [e["label"] for e in added["entries"]] == ["a***@acme.com", "initech.example", "m. s. @ globex.io"]

    runtime.reset()
    status, body, _ = call("GET", "/suppressions", workspace="acme")
    assert status == 200 and {e["key"] for e in body["suppressions"]} == {e["key"] for e in added["entries"]}
    assert call("GET", "/suppressions", workspace="globex")[1]["suppressions"] == []

    assert main(["suppress", "list", *table, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == body  # what GET /suppressions answers
    assert main(["suppress", "list", *table]) == 0
    out = capsys.readouterr().out
    assert "workspace acme's list" in out and "a***@acme.com" in out and "ada@" not in out

    assert main(["suppress", "add", *table, "--email", "ada@acme.com"]) == 0
    assert "0 added, 1 already there" in capsys.readouterr().out
    key = email_identity("ada@acme.com").key
    assert main(["suppress", "remove", "--table", TABLE, "--workspace", "acme", key]) == 0
    assert main(["suppress", "remove", "--table", TABLE, "--workspace", "acme", key]) == 1
    assert "no entry" in capsys.readouterr().err
    assert len(call("GET", "/suppressions", workspace="acme")[1]["suppressions"]) == 2


async def test_what_is_added_locally_holds_the_local_processor_s_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database.in_dir(tmp_path)  # the state `enrich local up` keeps
    lists = SqliteSuppressionList(db)
    state = ["--state", str(tmp_path)]
    argv = ["suppress", "add", *state, "--workspace", "acme", "--person", "José", "García", "acme.com"]
    assert await asyncio.to_thread(main, argv) == 0  # the command runs its own event loop
    screen = WorkspaceScreen(lists, "acme")
    assert await screen.suppressed([Person("jose", "GARCIA", "acme.com")]) == {
        Person("jose", "GARCIA", "acme.com")
    }
    assert await WorkspaceScreen(lists, "globex").suppressed([Person("Jose", "Garcia", "acme.com")]) == set()

    # The service-wide list: an operator's, listed with --service-wide, never removed here.
    now = datetime.now(UTC)
    await lists.add(
        [Suppression(SERVICE_WIDE, email_identity("zoe@acme.com"), SuppressionReason.OPTED_OUT, now)]
    )
    assert await asyncio.to_thread(main, ["suppress", "list", *state, "--service-wide"]) == 0
    out = capsys.readouterr().out
    assert "the service-wide list" in out and "opted_out" in out and "z***@acme.com" in out
    with pytest.raises(SystemExit):
        main(["suppress", "remove", *state, "--service-wide", email_identity("zoe@acme.com").key])
    db.close()


def test_import_finds_the_columns_adds_the_good_rows_and_names_the_bad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Database.in_dir(tmp_path / "state").close()
    state = ["--state", str(tmp_path / "state"), "--workspace", "acme"]
    sheet = tmp_path / "opt-outs.csv"
    sheet.write_text(
        "E-mail Address;First Name;Surname;Company Website\n"
        "Ada@Acme.com;;;\n"  # an address
        ";Grace;Hopper;https://navy.mil\n"  # a person
        ";;;initech.example\n"  # a domain
        "ada at acme;;;\n"  # not an address: refused, never echoed
        ";Alan;;turing.example\n"  # a person without a last name
        "ADA@acme.com;Ada;Lovelace;acme.com\n",  # the address again (a row with one is the address)
        encoding="cp1252",
    )
    assert main(["suppress", "import", str(sheet), *state]) == 3
    captured = capsys.readouterr()
    assert "3 added, 0 already there, 1 repeated in the file, 2 rows refused" in captured.out
    assert "email <- 'E-mail Address'" in captured.out and "domain <- 'Company Website'" in captured.out
    assert "line 5: email:" in captured.err and "line 6: last_name:" in captured.err
    assert "ada at acme" not in captured.err

    db = Database.in_dir(tmp_path / "state")
    try:
        listed = asyncio.run(SqliteSuppressionList(db).list("acme")).items
    finally:
        db.close()
    assert {s.identity.key for s in listed} == {
        email_identity("ada@acme.com").key,
        person_identity("Grace", "Hopper", "navy.mil").key,
        "d:initech.example",
    }
    assert {s.reason for s in listed} == {SuppressionReason.IMPORTED}

    (tmp_path / "names.csv").write_text("name,phone\nAda,1\n", encoding="utf-8")
    assert main(["suppress", "import", str(tmp_path / "names.csv"), *state]) == 2
    assert "no column of addresses or domains" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Database.in_dir(tmp_path).close()
    state = ["--state", str(tmp_path)]
    assert main(["suppress", "add", *state, "--domain", "acme.com"]) == 2
    assert "--workspace" in capsys.readouterr().err
    assert main(["suppress", "add", *state, "--workspace", "acme"]) == 2
    assert "nothing to add" in capsys.readouterr().err
    assert main(["suppress", "add", *state, "--workspace", "acme", "--email", "ada at acme"]) == 2
    err = capsys.readouterr().err
    assert "--email: email:" in err and "ada at acme" not in err
    assert main(["suppress", "list", *state, "--workspace", "acme", "--cursor", "nope"]) == 2
    assert "--cursor" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["suppress", "list", *state, "--workspace", "acme", "--limit", "0"])


@pytest.mark.usefixtures("bare_aws")
def test_no_aws_region_is_named_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["suppress", "list", "--workspace", "acme", "--table", "leadenrich-dev"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: no AWS region")


def test_the_screen_and_the_api_read_one_list(stack: None) -> None:
    """Belt and braces on the wiring: an address added by the CLI to the stack's table is suppressed for
    the processor the runtime builds."""
    assert main(["suppress", "add", "--table", TABLE, "--workspace", "acme", "--email", "ada@acme.com"]) == 0
    runtime.reset()
    screen = runtime.processor().screen
    assert screen is not None
    subjects: list[Subject] = [Address("ada@acme.com"), Domain("acme.com")]
    assert asyncio.run(screen("acme").suppressed(subjects)) == {Address("ada@acme.com")}
