"""`enrich verify`'s files: addresses read forgivingly (header aliases, --column, no header, workbooks,
repeats, refused rows), and results written with the input's columns then the verdict's."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest

from enrich_tools.local.addresses import read_addresses
from enrich_tools.local.output import write_results
from enrich_tools.local.results import item_record, refused_record
from enrich_tools.local.rows import CsvError
from enrich_tools.local.verify_command import ADDRESS_COLUMNS, ADDRESSES, print_addresses

UNFINISHED = ("failed", "unfinished")


def written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "header", ["email", "E-mail", "Email Address", "EMAIL_ADDRESS", " Work Email ", "mail"]
)
def test_the_address_column_is_found_under_its_common_names(tmp_path: Path, header: str) -> None:
    read = read_addresses(written(tmp_path / "a.csv", f"Name,{header},Owner\nJane,Jane.Doe@Acme.com,x\n"))
    [row] = read.rows
    assert read.mapping == {"email": header.strip()}
    assert row.lead == {"domain": "acme.com", "email": "jane.doe@acme.com"} and row.sendable
    assert row.values == ("Jane", "Jane.Doe@Acme.com", "x")  # the cells as written, for the output


def test_the_best_named_column_wins_and_the_other_is_noted(tmp_path: Path) -> None:
    read = read_addresses(written(tmp_path / "a.csv", "Work Email,Email\na@acme.com,b@acme.com\n"))
    assert read.mapping == {"email": "Email"} and read.rows[0].lead is not None
    assert read.rows[0].lead["email"] == "b@acme.com"
    assert any("'Work Email' not used" in note and "--column" in note for note in read.notes)
    chosen = read_addresses(tmp_path / "a.csv", column="work email")  # as compared: case and spacing
    assert chosen.rows[0].lead is not None and chosen.rows[0].lead["email"] == "a@acme.com"


def test_a_plain_list_of_addresses_has_no_header(tmp_path: Path) -> None:
    read = read_addresses(written(tmp_path / "a.txt", "jane@acme.com\nsam@globex.io\n"))
    assert [r.lead["email"] for r in read.rows if r.lead] == ["jane@acme.com", "sam@globex.io"]
    assert [r.line for r in read.rows] == [1, 2] and read.columns == ("email",)


def test_a_workbook_is_read_like_a_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for values in (("Company", "E-Mail"), ("Acme", "jane@acme.com"), ("Globex", "info@globex.io")):
        sheet.append(values)
    book.save(tmp_path / "a.xlsx")
    read = read_addresses(tmp_path / "a.xlsx")
    assert read.kind == "xlsx" and [r.line for r in read.rows] == [2, 3]
    assert [r.lead["email"] for r in read.rows if r.lead] == ["jane@acme.com", "info@globex.io"]


def test_refused_rows_name_line_and_column_and_repeats_point_at_the_first(tmp_path: Path) -> None:
    source = written(
        tmp_path / "a.csv",
        "Name,Mail\nJ,jane@acme.com\nD,jane.doe@\nE,\nJ2,JANE@ACME.COM\nS,sam@acme.com\n",
    )
    rows = read_addresses(source).rows
    assert [(r.line, r.sendable, r.duplicate_of) for r in rows] == [
        (2, True, None),
        (3, False, None),
        (4, False, None),
        (5, False, 2),
        (6, True, None),
    ]
    assert (
        rows[1].problem == "line 3: field 'email': not an email address: expected name@domain (column 'Mail')"
    )
    assert rows[2].problem is not None and "empty" in rows[2].problem
    assert "jane.doe" not in (rows[1].problem or "")  # never the address itself


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("name,phone\nJane,1\n", None, "no column of addresses"),
        ("email\njane@acme.com\n", "Home", "--column 'Home': no such column"),
    ],
)
def test_a_file_without_an_address_column_is_refused(
    tmp_path: Path, text: str, column: str | None, message: str
) -> None:
    with pytest.raises(CsvError, match=message):
        read_addresses(written(tmp_path / "a.csv", text), column=column)


def item(status: str, verdict: dict[str, Any] | None, reason: str | None = None) -> dict[str, Any]:
    """An item as GET /jobs/{id}/items gives it for an address."""
    return {
        "item_id": "000000",
        "status": status,
        "attempts": 1,
        "reason": reason,
        "lead": {"domain": "acme.com", "email": "jane@acme.com"},
        "emails": [verdict] if verdict else [],
    }


VERIFIED = {
    "email": "jane@acme.com",
    "source": "hunter_direct",
    "confidence_score": 96,
    "email_type": "primary",
    "hunter_status": "deliverable",
    "status": "active",
    "verified_at": "2026-06-15T12:00:00+00:00",
    "method": "email_finder",
    "person": None,
    "position": None,
    "deliverability": "verified",
    "contact": "named_person",
}


def test_the_csv_keeps_the_inputs_columns_and_adds_the_verdict(tmp_path: Path) -> None:
    rows = read_addresses(written(tmp_path / "a.csv", "Name,Email\nJane,Jane@Acme.com\nBad,nope\n")).rows
    records = [item_record(rows[0], item("found", VERIFIED), UNFINISHED), refused_record(rows[1])]
    write_results(tmp_path / "out.csv", "csv", rows, records, layout=ADDRESSES)
    table = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert table[0] == ["Name", "Email", *ADDRESS_COLUMNS]
    verdict = ["found", "deliverable", "96", "verified", "active", "2026-06-15T12:00:00+00:00", ""]
    assert table[1] == ["Jane", "Jane@Acme.com", *verdict]
    assert table[2][:4] == ["Bad", "nope", "invalid", ""] and "line 3" in table[2][-1]

    write_results(tmp_path / "out.jsonl", "jsonl", rows, records, layout=ADDRESSES)
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["line"], r["email"], r["status"]) for r in lines] == [
        (2, "jane@acme.com", "found"),
        (3, "nope", "invalid"),  # a refused row keeps its address as written
    ]


def test_a_result_column_named_like_an_input_column_is_renamed(tmp_path: Path) -> None:
    rows = read_addresses(written(tmp_path / "a.csv", "Email,Status\njane@acme.com,lead\n")).rows
    write_results(tmp_path / "out.csv", "csv", rows, [refused_record(rows[0])], layout=ADDRESSES)
    header = next(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert header[:3] == ["Email", "Status", "enrich_status"]


def test_the_table_shows_a_line_per_address_with_its_verdict_or_reason(tmp_path: Path) -> None:
    rows = read_addresses(written(tmp_path / "a.csv", "email\njane@acme.com\nsam@acme.com\n")).rows
    records = [
        item_record(rows[0], item("found", VERIFIED), UNFINISHED),
        item_record(rows[1], item("not_found", None, "opted out (451)"), UNFINISHED),
    ]
    out = io.StringIO()
    print_addresses(records, out, simulated=True, max_rows=1, output="out.csv")
    lines = out.getvalue().splitlines()
    assert "SIMULATED" in lines[0] and lines[1].split() == [
        "email",
        "status",
        "hunter",
        "score",
        "deliverability",
        "state",
    ]
    assert lines[3].split() == ["jane@acme.com", "found", "deliverable", "96", "verified", "active"]
    assert lines[4] == "... 1 more rows in out.csv"
