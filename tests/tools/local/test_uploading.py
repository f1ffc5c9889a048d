"""The file `enrich jobs create --csv` uploads above 10,000 rows: what it holds and how its lines lead back
to the user's own (the server reports a refused row by its line in the uploaded file)."""

from __future__ import annotations

import csv
from pathlib import Path

from enrich_tools.local.rows import CsvRow, read_leads
from enrich_tools.local.uploading import as_uploaded, wants_upload, write_upload
from leadenrich.engine.models import Lead
from leadenrich.jobs.requests import MAX_LEADS_PER_JOB
from leadenrich.uploads.csv_records import read_header, read_row, split_records

MESSY = (
    "Record ID;Website;First Name;Notes\n"
    "a-1;Acme.COM;José;x\n"
    "a-2;not a domain!;Ann;x\n"  # refused here: never uploaded
    'a-3;globex.io;"Mary\nAnn";spans two lines\n'  # one cell holds a line break
    "a-1;acme.com;José;x\n"  # a repeat of line 2: enriched once, not uploaded
    "a-4;initech.net;;x\n"
)


def test_the_upload_holds_the_sendable_rows_as_plain_utf8_csv(tmp_path: Path) -> None:
    """Given a semicolon-separated file with aliases, a refused row, a repeat and a cell holding a line
    break, when its upload is written, then it is UTF-8 with the lead fields as its header and one record
    per sendable row, holding the lead as checked (the domain in the form it was validated)."""
    source = tmp_path / "leads.csv"
    source.write_bytes(MESSY.encode("cp1252"))
    rows = read_leads(source).rows
    written = write_upload(rows, str(tmp_path))
    try:
        assert written.fields == ("domain", "first_name", "external_id")
        with written.path.open(encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
        assert records == [
            ["domain", "first_name", "external_id"],
            ["Acme.COM", "José", "a-1"],
            ["globex.io", "Mary\nAnn", "a-3"],
            ["initech.net", "", "a-4"],
        ]
        assert written.size == written.path.stat().st_size
        assert [row.line for row in written.sent] == [2, 4, 7]
    finally:
        written.path.unlink()


def test_each_line_of_the_upload_leads_back_to_the_users_line(tmp_path: Path) -> None:
    """Given an upload whose second record spans two physical lines, when the server names a line of it,
    then the row it belongs to is found: line 2 is the user's line 2, lines 3 and 4 the user's line 4, line
    5 the user's line 7; the header and lines past the end belong to no row."""
    source = tmp_path / "leads.csv"
    source.write_text(MESSY, encoding="utf-8")
    written = write_upload(read_leads(source).rows, str(tmp_path))
    written.path.unlink()
    assert written.starts == [2, 3, 5]
    found = {line: (row.line if (row := written.row_at(line)) else None) for line in range(1, 6)}
    assert found == {1: None, 2: 2, 3: 4, 4: 4, 5: 7}


def test_the_upload_path_starts_above_the_inline_limit_or_when_asked() -> None:
    def rows(n: int) -> list[CsvRow]:
        return [CsvRow(i + 2, f"d{i}.com", None, {"domain": f"d{i}.com"}) for i in range(n)]

    refused = CsvRow(1, "x", None, None, "line 1: field 'domain': bad")
    assert not wants_upload([*rows(MAX_LEADS_PER_JOB), refused], forced=False)  # refused rows do not count
    assert wants_upload(rows(MAX_LEADS_PER_JOB + 1), forced=False)
    assert wants_upload(rows(3), forced=True)


def test_the_services_reader_reads_each_row_back_as_its_item_will_hold_it(tmp_path: Path) -> None:
    """Given rows with an empty name, a quote, and a carriage return inside a name (which ends a record
    for a reader unless quoted), when the upload is read by the service's own reader, then each record
    is one lead, at the line the upload says, equal to the lead the command will match its item with."""
    source = tmp_path / "leads.csv"
    source.write_text(
        'domain,first_name,last_name\nacme.com,,Doe\nglobex.io,"Ann ""Jo""",Lee\n', encoding="utf-8"
    )
    rows = read_leads(source).rows
    carriage = CsvRow(9, "initech.net", None, {"domain": "initech.net", "first_name": "Mary\rAnn"})
    written = write_upload([*rows, carriage], str(tmp_path))
    data = written.path.read_bytes()
    written.path.unlink()
    records = split_records(data)
    header = read_header(records[0], {name: name for name in written.fields})
    assert header is not None
    leads = [read_row(record, header) for record in records[1:]]
    assert [record.line for record in records[1:]] == written.starts
    assert [lead.model_dump(exclude_defaults=True) for lead in leads if isinstance(lead, Lead)] == [
        as_uploaded(row.lead or {}) for row in written.sent
    ]
    assert written.sent[1].lead == {"domain": "globex.io", "first_name": 'Ann "Jo"', "last_name": "Lee"}
