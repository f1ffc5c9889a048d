"""An uploaded CSV as records: splitting by quote parity in any chunks, line numbers, the header, each row
checked as the API checks a lead, and every way a file fails as a whole, naming its line."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadenrich.engine.models import Lead
from leadenrich.uploads.csv_records import (
    MAX_RECORD_BYTES,
    CsvFileError,
    Header,
    Record,
    RecordSplitter,
    read_header,
    read_row,
    sniff_delimiter,
    split_records,
)
from leadenrich.uploads.models import RowError


def read(data: bytes, column_map: dict[str, str] | None = None) -> tuple[Header, list[Lead | RowError]]:
    """The header and every non-blank row's outcome."""
    records = split_records(data)
    header = None
    outcomes: list[Lead | RowError] = []
    for record in records:
        if header is None:
            header = read_header(record, column_map or {})
            continue
        outcome = read_row(record, header)
        if outcome is not None:
            outcomes.append(outcome)
    assert header is not None
    return header, outcomes


def in_chunks(data: bytes, size: int) -> list[Record]:
    splitter = RecordSplitter()
    records: list[Record] = []
    for start in range(0, len(data), size):
        records += splitter.feed(data[start : start + size])
    return records + splitter.finish()


def failure(data: bytes, column_map: dict[str, str] | None = None) -> str:
    with pytest.raises(CsvFileError) as caught:
        read(data, column_map)
    return str(caught.value)


# --- records and lines --------------------------------------------------------------------------------------


def test_lf_and_crlf_files_give_the_same_records_lines_and_leads() -> None:
    lf = b'domain,company_name\nacme.com,"Acme\nInc"\n\nglobex.io,Globex\n'
    crlf = lf.replace(b"\n", b"\r\n")
    for data in (lf, crlf):
        records = split_records(data)
        assert [(r.line, r.last_line) for r in records] == [(1, 1), (2, 3), (4, 4), (5, 5)]
        assert [r.end for r in records][-1] == len(data)
        assert records[2].data == b""  # a blank line is a (blank) record; the reader skips it
    _, leads = read(crlf)
    assert [lead.company_name for lead in leads if isinstance(lead, Lead)] == ["Acme\r\nInc", "Globex"]


def test_a_quoted_cell_spanning_lines_keeps_the_line_numbers_of_the_rows_after_it() -> None:
    data = b'domain,company_name\n"acme.com","three\nline\nname"\nnot a domain,X\n'
    _, outcomes = read(data)
    assert isinstance(outcomes[0], Lead)
    assert outcomes[1] == RowError(5, "domain", outcomes[1].message)  # type: ignore[union-attr]


def test_each_record_knows_where_it_starts_and_ends_so_a_reader_resumes_there() -> None:
    data = b'\xef\xbb\xbfdomain\r\n"a.com"\r\n\r\nb.com\r\n"c\r\n.com"\r\nd.com'
    records = split_records(data)
    assert records[0].data == b"domain" and records[0].start == 0  # the mark is not the header's
    for n, record in enumerate(records[1:], start=1):
        assert record.start == records[n - 1].end
        resumed = RecordSplitter(record.start, record.line)
        assert resumed.feed(data[record.start :]) + resumed.finish() == records[n:]


def test_the_last_record_needs_no_line_end() -> None:
    assert [r.data for r in split_records(b"domain\nacme.com")] == [b"domain", b"acme.com"]
    assert split_records(b"") == []


# --- the header ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "name"), [(b",", ","), (b";", ";"), (b"\t", "\t")])
def test_the_delimiter_is_the_one_the_header_holds(delimiter: bytes, name: str) -> None:
    data = delimiter.join([b"Website", b"Company", b"First Name"]) + b"\n"
    data += delimiter.join([b"acme.com", b'"Acme, Inc; Ltd"', b"Jane"]) + b"\n"
    header, leads = read(data)
    assert header.delimiter == name
    assert header.names == (("domain", "Website"), ("company_name", "Company"), ("first_name", "First Name"))
    assert leads == [Lead(domain="acme.com", company_name="Acme, Inc; Ltd", first_name="Jane")]


def test_delimiters_inside_quotes_do_not_count_and_none_means_a_comma() -> None:
    assert sniff_delimiter('"a;b;c",d') == ","
    assert sniff_delimiter("domain") == ","


def test_blank_lines_before_the_header_are_skipped() -> None:
    header, leads = read(b"\n,,\n  \ndomain\nacme.com\n")
    assert header.columns == (("domain", 0),)
    assert leads == [Lead(domain="acme.com")]


def test_a_column_map_names_the_columns_before_the_aliases() -> None:
    data = b"Site,Website,Org\nacme.com,ignored.com,Acme\n"
    header, leads = read(data, {"domain": "site", "company_name": "Org"})
    assert dict(header.columns) == {"domain": 0, "company_name": 2}
    assert leads == [Lead(domain="acme.com", company_name="Acme")]


def test_a_mapped_column_the_file_lacks_fails_naming_it_and_listing_the_headers() -> None:
    message = failure(b"Site,Org\nacme.com,Acme\n", {"domain": "Web"})
    assert message == "line 1: columns.domain: no column named 'Web' (found: 'Site', 'Org')"


def test_a_header_without_a_domain_or_company_column_lists_what_it_found_and_what_is_accepted() -> None:
    message = failure(b"\n\nEmail,Phone\nx@y.com,1\n")
    assert message.startswith("line 3: the header must have a 'domain' column (found: 'Email', 'Phone'; ")
    assert "accepted: 'domain', 'company domain'" in message and "'website'" in message
    assert '"columns": {"domain": "<column>"}' in message


# --- the rows -----------------------------------------------------------------------------------------------


def test_rows_are_checked_with_the_api_model_each_error_naming_its_line_field_and_column() -> None:
    data = (
        b"Website,Company,First Name\n"
        b"acme.com,Acme,Jane\n"
        b"not a domain,Bad,Joe\n"
        b",,\n"  # blank: skipped
        b",Named Only,Ann\n"  # no domain but a company: resolved later (docs/company-data.md)
        b",,Nobody\n"
    )
    _, outcomes = read(data)
    assert outcomes[0] == Lead(domain="acme.com", company_name="Acme", first_name="Jane")
    bad = outcomes[1]
    assert isinstance(bad, RowError) and (bad.line, bad.field) == (3, "domain")
    assert "(column 'Website')" in bad.message
    assert outcomes[2] == Lead(company_name="Named Only", first_name="Ann")
    nobody = outcomes[3]
    assert isinstance(nobody, RowError) and (nobody.line, nobody.field) == (6, "domain")


def test_a_row_with_more_non_empty_cells_than_the_header_is_refused_naming_its_line() -> None:
    _, outcomes = read(b"domain,company_name\nacme.com,Acme,,\nglobex.io,Globex, Inc\n")
    assert outcomes[0] == Lead(domain="acme.com", company_name="Acme")  # empty extra cells are harmless
    refused = outcomes[1]
    assert isinstance(refused, RowError) and (refused.line, refused.field) == (3, "row")
    assert "3 cells but the header has 2 columns" in refused.message


def test_a_short_row_reads_its_missing_cells_as_empty() -> None:
    _, outcomes = read(b"domain,company_name,first_name\nacme.com\n")
    assert outcomes == [Lead(domain="acme.com")]


def test_a_cell_past_the_csv_module_s_limit_refuses_its_row_and_fails_a_header() -> None:
    long = b"x" * 200_000
    _, outcomes = read(b"domain,notes\nacme.com," + long + b"\nglobex.io,ok\n")
    assert isinstance(outcomes[0], RowError) and (outcomes[0].line, outcomes[0].field) == (2, "row")
    assert outcomes[1] == Lead(domain="globex.io")
    assert failure(b"domain," + long + b"\nacme.com,x\n").startswith("line 1: malformed CSV header")


# --- files that cannot be read ------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_fails_naming_the_line_and_how_to_save_it() -> None:
    message = failure("domain,company_name\nacme.com,Acme\ncafe.fr,Caf\xe9\n".encode("cp1252"))
    assert message.startswith("line 3: not UTF-8 text (byte 0xe9)")
    assert "CSV UTF-8" in message


def test_nul_bytes_fail_the_file_as_binary_naming_the_line() -> None:
    assert failure(b"domain\nacme.com\nx\x00y\n").startswith("line 3: NUL bytes")
    utf16 = "domain\nacme.com\n".encode("utf-16")
    assert "binary file or UTF-16" in failure(utf16)


def test_a_quoted_cell_never_closed_fails_naming_the_line_it_opened_on() -> None:
    message = failure(b'domain,company_name\nacme.com,Acme\nglobex.io,"Globex\nmore\n')
    assert message == "line 3: a quoted cell opened on line 3 is never closed"


def test_a_record_over_the_bound_fails_naming_where_it_starts() -> None:
    data = b'domain,company_name\nacme.com,"' + b"x\n" * (MAX_RECORD_BYTES // 2 + 1)
    with pytest.raises(CsvFileError) as caught:
        in_chunks(data, 64 * 1024)
    assert str(caught.value).startswith(f"line 2: a record longer than {MAX_RECORD_BYTES:,} bytes")


def test_lines_ended_by_a_carriage_return_alone_are_named() -> None:
    assert "carriage return" in failure(b"domain\racme.com\rglobex.io\r")


def test_a_stray_quote_in_an_unquoted_cell_fails_rather_than_joining_rows_silently() -> None:
    message = failure(b'domain,company_name\nacme.com,5" Screens\nglobex.io,Globex 7"\nb.com,B\n')
    assert message.startswith("line 2: a double quote inside an unquoted cell joins lines into one row")


def test_an_empty_or_blank_file_has_no_header() -> None:
    assert split_records(b"") == []
    assert all(read_header(r, {}) is None for r in split_records(b"\n,,\n\r\n"))


# --- properties ---------------------------------------------------------------------------------------------

# Bytes with every character that matters to the splitter, and a two-byte one.
_PIECES = st.sampled_from([b"a", b",", b'"', b"\n", b"\r\n", b"\r", "é".encode(), b" "])
_DATA = st.lists(_PIECES, max_size=60).map(b"".join)


def _outcome(split: object) -> object:
    try:
        return split() if callable(split) else split
    except CsvFileError as exc:
        return ("error", str(exc))


@settings(max_examples=300, deadline=None)
@given(_DATA, st.integers(min_value=1, max_value=12))
def test_any_chunk_size_gives_the_records_of_the_whole(data: bytes, size: int) -> None:
    assert _outcome(lambda: in_chunks(data, size)) == _outcome(lambda: split_records(data))


@settings(max_examples=300, deadline=None)
@given(_DATA, st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_any_cut_points_give_the_records_of_the_whole(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    splitter = RecordSplitter()

    def fed() -> list[Record]:
        records: list[Record] = []
        for start, stop in itertools.pairwise(points):
            records += splitter.feed(data[start:stop])
        return records + splitter.finish()

    assert _outcome(fed) == _outcome(lambda: split_records(data))


@settings(max_examples=300, deadline=None)
@given(_DATA)
def test_records_tile_the_file_and_resume_from_any_boundary(data: bytes) -> None:
    try:
        records = split_records(data)
    except CsvFileError:
        return
    assert [r.start for r in records[1:]] == [r.end for r in records[:-1]]
    assert (records[-1].end if records else 0) == len(data)
    for n, record in enumerate(records):
        resumed = RecordSplitter(record.start, record.line)
        assert resumed.feed(data[record.start :]) + resumed.finish() == records[n:]


# No carriage return alone in a cell: the writer leaves it unquoted, and at a row's end it reads as CRLF.
_CELL = st.lists(st.sampled_from(["a", "b", " ", ",", ";", '"', "\n", "\r\n", "\t", "é"]), max_size=8).map(
    "".join
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(_CELL, min_size=1, max_size=4), min_size=1, max_size=8), st.sampled_from(["\n", "\r\n"])
)
def test_the_records_of_a_csv_writer_file_are_its_rows_on_their_lines(
    rows: list[list[str]], end: str
) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=end, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    text = out.getvalue()
    records = in_chunks(text.encode(), 7)
    # (the writer quotes a lone empty cell: no row is written as a blank line)
    assert [next(csv.reader(io.StringIO(r.data.decode(), newline=""))) for r in records] == rows
    line = 1
    starts = []
    for row in rows:
        starts.append(line)
        written = io.StringIO()
        csv.writer(written, lineterminator=end).writerow(row)
        line += written.getvalue().count("\n")
    assert [r.line for r in records] == starts
