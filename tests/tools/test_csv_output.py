"""Results out: records with the person and provenance of each address, CSV with the input's own columns
first and Excel-safe cells, a streaming writer that survives a kill -9, duplicates and the table."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from enrich_tools.local.output import (
    RESULT_COLUMNS,
    Format,
    OutputError,
    ResultWriter,
    csv_header,
    excel_safe,
    output_format,
    write_results,
)
from enrich_tools.local.results import (
    Record,
    duplicate_record,
    expand_duplicates,
    item_record,
    lead_item_record,
    print_table,
    refused_record,
    split_person,
    write_records,
)
from enrich_tools.local.rows import CsvRow, read_rows
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    FoundEmail,
    HunterStatus,
    Method,
)

ROOT = Path(__file__).resolve().parents[2]
UNFINISHED = ("failed", "unfinished")


def found_email(
    address: str,
    email_type: EmailType = EmailType.PRIMARY,
    person: str | None = "Jane Doe",
    position: str | None = "CEO",
) -> dict[str, object]:
    return FoundEmail(
        email=address,
        source=EmailSource.HUNTER_DIRECT,
        confidence_score=97,
        email_type=email_type,
        hunter_status=HunterStatus.DELIVERABLE,
        status=EmailStatus.ACTIVE,
        verified_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        method=Method.DOMAIN_SEARCH,
        deliverability=Deliverability.VERIFIED,
        person=person,
        position=position,
    ).as_record()


def leads_file(tmp_path: Path, text: str) -> list[CsvRow]:
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    return read_rows(path)


def found_item(row: CsvRow, *emails: dict[str, object], reason: str | None = None) -> dict[str, Any]:
    return {"item_id": "0", "status": "found", "reason": reason, "lead": row.lead, "emails": list(emails)}


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


# --- records ------------------------------------------------------------------------------------------------


def test_records_carry_the_line_and_each_address_its_person_and_provenance(tmp_path: Path) -> None:
    [row] = leads_file(tmp_path, "Website,Name\nhttps://www.Acme.com/about,x\n")
    secondary = found_email("info@acme.com", EmailType.SECONDARY, person=None, position=None)
    record = item_record(row, found_item(row, found_email("jane.doe@acme.com"), secondary), UNFINISHED)
    assert record["line"] == 2 and record["domain"] == "acme.com" and record["status"] == "found"
    assert record["emails"][0] == {
        "email": "jane.doe@acme.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "person": "Jane Doe",
        "position": "CEO",
        "source": "hunter_direct",
        "method": "domain_search",
        "confidence_score": 97,
        "email_type": "primary",
        "hunter_status": "deliverable",
        "status": "active",
        "verified_at": "2026-01-02T03:04:05+00:00",
        "deliverability": "verified",
        "contact": "decision_maker",
    }
    assert record["emails"][1]["first_name"] is None and record["emails"][1]["person"] is None
    assert json.loads(json.dumps(record)) == record


def test_results_stored_before_deliverability_and_contact_existed_are_read_without_them(
    tmp_path: Path,
) -> None:
    [row] = leads_file(tmp_path, "domain\nacme.com\n")
    email = found_email("jane@acme.com") | {"deliverability": "catch_all"}
    assert item_record(row, found_item(row, email), UNFINISHED)["emails"][0]["deliverability"] == "catch_all"
    older = {k: v for k, v in found_email("j@acme.com").items() if k not in ("deliverability", "contact")}
    record = item_record(row, found_item(row, older), UNFINISHED)["emails"][0]
    assert "deliverability" not in record and "contact" not in record and record["email"] == "j@acme.com"


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("Jane Doe", ("Jane", "Doe")),
        ("Dr. Jane Doe, PhD", ("Jane", "Doe")),
        ("Jean-Luc Picard", ("Jean-Luc", "Picard")),
        ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
        ("J. Robert Oppenheimer", ("J. Robert", "Oppenheimer")),
        ("Cher", ("Cher", None)),
        ("Board of Directors", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_split_person(person: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_person(person) == expected


def test_a_stored_lead_record_has_no_line() -> None:
    item = {"status": "not_found", "reason": "nobody", "lead": {"domain": "acme.com"}, "emails": []}
    assert lead_item_record(item, UNFINISHED)["line"] is None


def test_a_refused_row_record(tmp_path: Path) -> None:
    [row] = leads_file(tmp_path, "domain\nnot a domain\n")
    record = refused_record(row)
    assert record["line"] == 2 and record["status"] == "invalid"
    assert record["reason"].startswith("line 2: field 'domain'")


# --- duplicates ---------------------------------------------------------------------------------------------


def test_a_duplicate_gets_the_first_occurrences_result_under_its_own_line(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, "domain,ID\nacme.com,1\nnot a domain,2\nACME.COM,1\nglobex.io,3\n")
    first, _refused, repeat, other = rows
    assert repeat.duplicate_of == 2
    by_line = {
        2: item_record(first, found_item(first, found_email("jane@acme.com")), UNFINISHED),
        5: item_record(other, found_item(other, reason="named person not found"), UNFINISHED),
    }
    records = expand_duplicates(rows, by_line)
    assert [r["line"] for r in records] == [2, 3, 4, 5]
    assert records[1]["status"] == "invalid"  # never sent: refused
    assert records[2]["status"] == "found" and records[2]["reason"] == "duplicate of line 2"
    assert records[2]["emails"] == records[0]["emails"] and records[2]["emails"] is not records[0]["emails"]
    assert records[0]["reason"] is None  # the first occurrence is untouched


def test_a_duplicate_keeps_the_reason_of_its_first_occurrence(tmp_path: Path) -> None:
    first, repeat = leads_file(tmp_path, "domain,first_name\nacme.com,Jane\nacme.com,jane\n")
    original = item_record(first, found_item(first, reason="Jane not found"), UNFINISHED)
    record = duplicate_record(repeat, original)
    assert record["line"] == 3 and record["reason"] == "duplicate of line 2: Jane not found"
    assert original["line"] == 2 and original["reason"] == "Jane not found"


def test_a_duplicate_whose_original_has_no_record_yet_points_at_it(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, "domain\nacme.com\nacme.com\n")
    [record] = expand_duplicates(rows[1:], {})
    assert record["status"] == "skipped" and record["reason"].startswith("duplicate of line 2")


# --- formats ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "forced", "expected"),
    [
        ("out.csv", None, "csv"),
        ("OUT.CSV", None, "csv"),
        ("out.jsonl", None, "jsonl"),
        ("out.ndjson", None, "jsonl"),
        ("results", None, "jsonl"),
        ("out.csv", "jsonl", "jsonl"),
        ("out.txt", "CSV", "csv"),
    ],
)
def test_output_format(name: str, forced: str | None, expected: str) -> None:
    assert output_format(Path(name), forced) == expected


def test_output_format_refuses_workbooks_and_unknown_formats() -> None:
    with pytest.raises(OutputError, match="cannot write a workbook"):
        output_format(Path("out.xlsx"))
    with pytest.raises(OutputError, match="--format 'xml': expected one of csv, jsonl"):
        output_format(Path("out.csv"), "xml")


# --- CSV ----------------------------------------------------------------------------------------------------


def test_csv_puts_the_input_columns_first_then_status_reason_and_the_primary_contact(tmp_path: Path) -> None:
    rows = leads_file(
        tmp_path,
        "Record ID,Website,First Name,Owner\n7,acme.com,Jane,Sam\n8,globex.io\n9,not a domain,,Kim\n",
    )
    secondary = found_email("info@acme.com", EmailType.SECONDARY, person=None, position=None)
    primary = found_email("jane.doe@acme.com", person="Jane Doe", position="Chief Executive")
    tertiary = found_email("john@acme.com", EmailType.SECONDARY, person="John Roe", position="CFO")
    records = expand_duplicates(
        rows,
        {
            2: item_record(rows[0], found_item(rows[0], secondary, primary, tertiary), UNFINISHED),
            3: item_record(rows[1], {"status": "not_found", "reason": "nobody"}, UNFINISHED),
        },
    )
    out = tmp_path / "out.csv"
    write_results(out, "csv", rows, records)
    table = read_csv(out)
    # "First Name" and first_name are one name to the reader (and to people): the result's is prefixed
    results = [f"enrich_{c}" if c == "first_name" else c for c in RESULT_COLUMNS]
    assert table[0] == ["Record ID", "Website", "First Name", "Owner", *results]
    assert table[1] == [
        "7",
        "acme.com",
        "Jane",
        "Sam",
        "found",
        "",
        "jane.doe@acme.com",
        "Jane",
        "Doe",
        "Chief Executive",
        "hunter_direct",
        "domain_search",
        "97",
        "deliverable",
        "active",
        "2026-01-02T03:04:05+00:00",
        "verified",
        "decision_maker",
        "info@acme.com; john@acme.com",
    ]
    assert table[2][:7] == ["8", "globex.io", "", "", "not_found", "nobody", ""]  # a short row, padded
    assert table[3][:5] == ["9", "not a domain", "", "Kim", "invalid"]
    assert table[3][5].startswith("line 4: field 'domain'")
    assert all(len(line) == len(table[0]) for line in table)


def test_without_a_primary_the_first_address_is_the_contact(tmp_path: Path) -> None:
    [row] = leads_file(tmp_path, "domain\nacme.com\n")
    emails = [found_email(f"{n}@acme.com", EmailType.SECONDARY, person=None) for n in ("a", "b")]
    record = item_record(row, found_item(row, *emails), UNFINISHED)
    out = tmp_path / "out.csv"
    write_results(out, "csv", [row], [record])
    header, line = read_csv(out)
    assert line[header.index("email")] == "a@acme.com" and line[header.index("other_emails")] == "b@acme.com"


def test_input_columns_named_like_result_columns_keep_their_names(tmp_path: Path) -> None:
    assert csv_header(["domain", "Status", "E-mail", "enrich_email"])[:8] == [
        "domain",
        "Status",
        "E-mail",
        "enrich_email",
        "enrich_status",
        "reason",
        "enrich_enrich_email",
        "first_name",
    ]


def test_records_without_input_rows_start_with_external_id_and_domain(tmp_path: Path) -> None:
    item: dict[str, Any] = {"status": "found", "lead": {"domain": "acme.com", "external_id": "x-1"}}
    item["emails"] = [found_email("jane@acme.com")]
    out = tmp_path / "out.csv"
    write_results(out, "csv", [], [lead_item_record(item, UNFINISHED)])
    header, line = read_csv(out)
    assert header[:3] == ["external_id", "domain", "status"]
    assert line[:3] == ["x-1", "acme.com", "found"]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),
        ("+1.5", "+1.5"),
        ("1e3", "1e3"),
        ("Acme = good", "Acme = good"),
        ("", ""),
    ],
)
def test_excel_safe(cell: str, safe: str) -> None:
    assert excel_safe(cell) == safe


def test_csv_cells_are_neutralised_everywhere_input_header_and_results(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, 'domain,"=Notes"\nacme.com,"=1+1"\n')
    item = found_item(rows[0], found_email("jane@acme.com", person="@Jane Doe", position="-CEO"))
    item["reason"] = "+reason"
    out = tmp_path / "out.csv"
    write_results(out, "csv", rows, [item_record(rows[0], item, UNFINISHED)])
    header, line = read_csv(out)
    assert header[1] == "'=Notes"
    assert line[1] == "'=1+1"
    assert line[header.index("reason")] == "'+reason"
    assert line[header.index("position")] == "'-CEO"


def test_csv_starts_with_a_bom_unless_told_not_to(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, "domain,first_name\nacme.com,Zoë\n")
    records = [item_record(rows[0], found_item(rows[0]), UNFINISHED)]
    with_bom, without = tmp_path / "bom.csv", tmp_path / "plain.csv"
    write_results(with_bom, "csv", rows, records)
    write_results(without, "csv", rows, records, bom=False)
    assert with_bom.read_bytes().startswith(b"\xef\xbb\xbfdomain,first_name,status")
    assert without.read_bytes().startswith(b"domain,first_name,status")
    assert "Zoë" in with_bom.read_text(encoding="utf-8-sig")
    jsonl = tmp_path / "out.jsonl"
    write_results(jsonl, "jsonl", rows, records)
    assert jsonl.read_bytes().startswith(b'{"line": 2')


def test_csv_may_use_another_delimiter(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, "domain;company\nacme.com;Acme, Inc.\n")
    out = tmp_path / "out.csv"
    write_results(out, "csv", rows, [refused_record(rows[0])], delimiter=";")
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("acme.com;Acme, Inc.;invalid")


def test_multi_line_input_cells_round_trip(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, 'domain,address\nacme.com,"1 Main St\nSpringfield"\n')
    out = tmp_path / "out.csv"
    write_results(out, "csv", rows, [refused_record(rows[0])])
    assert read_csv(out)[1][:2] == ["acme.com", "1 Main St\nSpringfield"]


# --- whole-file writes --------------------------------------------------------------------------------------


def test_write_results_puts_records_in_input_order(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, "domain\na.com\nb.com\nc.com\n")
    records = [refused_record(rows[2]), refused_record(rows[0]), refused_record(rows[1])]
    out = tmp_path / "out.jsonl"
    write_results(out, "jsonl", rows, records)
    assert [json.loads(line)["domain"] for line in out.read_text().splitlines()] == [
        "a.com",
        "b.com",
        "c.com",
    ]


def test_a_failed_whole_file_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")

    def records() -> Any:
        yield {"line": 1, "status": "found"}
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_results(out, "jsonl", [], records())
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_write_records_still_writes_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    write_records(out, [{"line": 2, "domain": "a.com"}, {"line": 3, "domain": "é.com"}])
    assert (
        out.read_text(encoding="utf-8") == '{"line": 2, "domain": "a.com"}\n{"line": 3, "domain": "é.com"}\n'
    )


# --- streaming ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_streaming_writer_leaves_complete_lines_after_each_write(tmp_path: Path, fmt: str) -> None:
    rows = leads_file(tmp_path, "domain\na.com\nb.com\nc.com\n")
    out = tmp_path / f"out.{fmt}"
    with ResultWriter(out, output_format(out), rows) as writer:
        for count, row in enumerate(rows, start=1):
            writer.write(refused_record(row))
            text = out.read_text(encoding="utf-8-sig")  # read while the writer is still open
            assert text.endswith("\n")
            lines = text.splitlines()
            assert len(lines) == count + (fmt == "csv")
        assert writer.written == 3


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_kill_9_leaves_every_written_record(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from enrich_tools.local.output import ResultWriter
        writer = ResultWriter(Path({str(out)!r}), {fmt!r})
        for n in range(5):
            writer.write({{"line": n + 2, "domain": f"d{{n}}.com", "status": "found", "emails": []}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    paths = [str(ROOT / "infra"), str(ROOT / "layers/common")]
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": ":".join(paths)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    if fmt == "jsonl":
        assert [json.loads(line)["line"] for line in out.read_text().splitlines()] == [2, 3, 4, 5, 6]
    else:
        assert [line[1] for line in read_csv(out)[1:]] == [f"d{n}.com" for n in range(5)]


def test_appending_continues_a_file_without_a_second_header_or_bom(tmp_path: Path) -> None:
    rows = leads_file(tmp_path, "domain\na.com\nb.com\n")
    out = tmp_path / "out.csv"
    with ResultWriter(out, "csv", rows) as writer:
        writer.write(refused_record(rows[0]))
    with ResultWriter(out, "csv", rows, append=True) as writer:
        writer.write(refused_record(rows[1]))
    data = out.read_bytes()
    assert data.count(b"\xef\xbb\xbf") == 1 and data.count(b"domain,status") == 1
    assert [line[0] for line in read_csv(out)] == ["domain", "a.com", "b.com"]


def test_appending_to_a_missing_file_starts_it(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    with ResultWriter(out, "csv", [], append=True) as writer:
        writer.write({"line": None, "domain": "a.com", "external_id": "1", "status": "found", "emails": []})
    assert read_csv(out)[0][:3] == ["external_id", "domain", "status"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_appending_cuts_a_torn_last_line_first(tmp_path: Path, fmt: Format) -> None:
    rows = leads_file(tmp_path, "domain\na.com\nb.com\n")
    out = tmp_path / f"out.{fmt}"
    with ResultWriter(out, fmt, rows) as writer:
        writer.write(refused_record(rows[0]))
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"line": 3, "dom' if fmt == "jsonl" else "b.com,inva")  # a run killed mid-write
    with ResultWriter(out, fmt, rows, append=True) as writer:
        writer.write(refused_record(rows[1]))
    if fmt == "jsonl":
        assert [json.loads(line)["domain"] for line in out.read_text().splitlines()] == ["a.com", "b.com"]
    else:
        assert [line[:2] for line in read_csv(out)[1:]] == [["a.com", "invalid"], ["b.com", "invalid"]]


def test_appending_csv_to_a_file_with_other_columns_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_bytes(b"something,else\r\n1,2\r\n")
    rows = leads_file(tmp_path, "domain\na.com\n")
    with pytest.raises(OutputError, match="has other columns"):
        ResultWriter(out, "csv", rows, append=True)
    assert out.read_bytes() == b"something,else\r\n1,2\r\n"


# --- the table ----------------------------------------------------------------------------------------------


def table_records(count: int) -> list[Record]:
    rows = [CsvRow(n + 2, f"d{n}.com", None, {"domain": f"d{n}.com"}) for n in range(count)]
    return [
        item_record(row, found_item(row, found_email(f"jane@d{row.line}.com")), UNFINISHED) for row in rows
    ]


def test_the_table_shows_the_person_and_position() -> None:
    out = io.StringIO()
    print_table(table_records(1), out, simulated=False)
    text = out.getvalue()
    assert "person" in text.splitlines()[0]
    assert "Jane Doe, CEO" in text and "jane@d2.com" in text and "verified" in text
    older = [{**r, "emails": [{**r["emails"][0], "deliverability": None}]} for r in table_records(1)]
    out = io.StringIO()
    print_table(older, out, simulated=False)
    assert "deliverable" in out.getvalue()  # a result stored before the grade shows Hunter's verdict
    generic = [
        {**r, "emails": [{**r["emails"][0], "person": None, "position": None, "contact": "generic"}]}
        for r in table_records(1)
    ]
    out = io.StringIO()
    print_table(generic, out, simulated=False)
    assert "(role address)" in out.getvalue()  # a lead found only through info@ says so


def test_the_table_stops_after_max_rows_and_says_where_the_rest_are() -> None:
    out = io.StringIO()
    print_table(table_records(12), out, simulated=True, max_rows=10, output=Path("results.csv"))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("== SIMULATED DATA")
    assert sum("jane@" in line for line in lines) == 10
    assert lines[-1] == "... 2 more rows in results.csv"
    everything = io.StringIO()
    print_table(table_records(12), everything, simulated=False, max_rows=None)
    assert sum("jane@" in line for line in everything.getvalue().splitlines()) == 12
    unsaved = io.StringIO()
    print_table(table_records(3), unsaved, simulated=False, max_rows=1)
    assert unsaved.getvalue().splitlines()[-1] == "... 2 more rows (write them all with --output FILE)"
