"""Leads files as sales tools export them: delimiters, encodings, header aliases, --map, .xlsx, physical
line numbers, blank rows and duplicates."""

from __future__ import annotations

import datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from enrich_tools.local.rows import (
    ALIASES,
    ColumnMapError,
    CsvError,
    CsvRow,
    LeadFile,
    parse_column_map,
    read_leads,
    read_rows,
    repeats_by_line,
)
from enrich_tools.local.sheets import decode, sniff_delimiter

HEADER = "domain,company_name,first_name,last_name,external_id"


def write(tmp_path: Path, data: str | bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


def leads(rows: list[CsvRow]) -> list[dict[str, str] | None]:
    return [row.lead for row in rows]


# --- delimiters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(
        delimiter.join(cells)
        for cells in (
            ("domain", "company_name", "first_name"),
            ("acme.com", "Acme Inc.", "Jane"),
            ("globex.io", "Globex", "Hank"),
        )
    )
    read = read_leads(write(tmp_path, text + "\n"))
    assert read.delimiter == delimiter
    assert leads(read.rows) == [
        {"domain": "acme.com", "company_name": "Acme Inc.", "first_name": "Jane"},
        {"domain": "globex.io", "company_name": "Globex", "first_name": "Hank"},
    ]


def test_semicolon_file_with_commas_inside_values_keeps_them(tmp_path: Path) -> None:
    path = write(tmp_path, "Domain;Company\nacme.com;Acme, Inc.\nglobex.io;Globex, LLC\n")
    assert [row.lead for row in read_rows(path)] == [
        {"domain": "acme.com", "company_name": "Acme, Inc."},
        {"domain": "globex.io", "company_name": "Globex, LLC"},
    ]


def test_a_one_column_file_has_no_delimiter_and_falls_back_to_comma(tmp_path: Path) -> None:
    read = read_leads(write(tmp_path, "domain\nacme.com\nglobex.io\n"))
    assert read.delimiter == ","
    assert [row.domain for row in read.rows] == ["acme.com", "globex.io"]


def test_the_sniffer_is_overruled_when_the_header_lacks_its_choice() -> None:
    # every data line has two semicolons, the header none: the header's comma wins
    text = "domain,company_name\nacme.com,A;B;C\nglobex.io,D;E;F\n"
    assert sniff_delimiter(text) == ","


# --- encodings ----------------------------------------------------------------------------------------------

ACCENTED = "domain;company_name;first_name;last_name\nmaison-dupont.fr;Société Générale;Hélène;Müller\n"
EXPECTED_ACCENTED = {
    "domain": "maison-dupont.fr",
    "company_name": "Société Générale",
    "first_name": "Hélène",
    "last_name": "Müller",
}


def test_utf8_without_bom(tmp_path: Path) -> None:
    read = read_leads(write(tmp_path, ACCENTED.encode("utf-8")))
    assert read.encoding == "UTF-8"
    assert read.rows[0].lead == EXPECTED_ACCENTED


def test_utf8_with_bom_does_not_leak_into_the_first_header(tmp_path: Path) -> None:
    read = read_leads(write(tmp_path, ACCENTED.encode("utf-8-sig")))
    assert read.encoding == "UTF-8 with BOM"
    assert read.columns[0] == "domain" and read.mapping["domain"] == "domain"
    assert read.rows[0].lead == EXPECTED_ACCENTED


def test_utf16_le_with_bom_as_excel_saves_unicode_text(tmp_path: Path) -> None:
    text = ACCENTED.replace(";", "\t").replace("\n", "\r\n")
    data = b"\xff\xfe" + text.encode("utf-16-le")
    read = read_leads(write(tmp_path, data, "leads.txt"))
    assert read.encoding == "UTF-16 with BOM" and read.delimiter == "\t"
    assert read.rows[0].lead == EXPECTED_ACCENTED and read.rows[0].line == 2


def test_utf16_be_with_bom(tmp_path: Path) -> None:
    data = b"\xfe\xff" + ACCENTED.encode("utf-16-be")
    assert read_rows(write(tmp_path, data))[0].lead == EXPECTED_ACCENTED


def test_utf16_without_bom_is_recognised_by_its_nul_bytes(tmp_path: Path) -> None:
    read = read_leads(write(tmp_path, ACCENTED.encode("utf-16-le")))
    assert read.encoding == "UTF-16-LE"
    assert read.rows[0].lead == EXPECTED_ACCENTED


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_latin1_and_windows_1252_with_accented_names(tmp_path: Path, codec: str) -> None:
    read = read_leads(write(tmp_path, ACCENTED.encode(codec)))
    assert read.encoding == "cp1252"
    assert read.rows[0].lead == EXPECTED_ACCENTED


@pytest.mark.parametrize(
    ("first", "last"),
    [("José", "Müller"), ("Iñaki", "Muñoz"), ("Françoise", "Àlvarez"), ("Zoë", "Groß"), ("Søren", "Ærø")],
)
def test_short_western_files_are_read_as_cp1252_not_a_lookalike_code_page(
    tmp_path: Path, first: str, last: str
) -> None:
    """On a few names charset-normalizer cannot tell cp1252 from cp1250 or cp775: cp1252 wins the tie."""
    data = f"domain,first_name,last_name\nacme.es,{first},{last}\n".encode("cp1252")
    lead = read_rows(write(tmp_path, data))[0].lead
    assert lead == {"domain": "acme.es", "first_name": first, "last_name": last}


def test_windows_1252_punctuation_survives(tmp_path: Path) -> None:
    data = "domain,company_name\nacme.com,Café “Quote” – Ltd €\n".encode("cp1252")
    assert read_rows(write(tmp_path, data))[0].lead == {
        "domain": "acme.com",
        "company_name": "Café “Quote” – Ltd €",
    }


def test_a_cyrillic_code_page_is_detected_by_charset_normalizer(tmp_path: Path) -> None:
    rows = "".join(
        f"{d},{f},{n}\n"
        for d, f, n in (
            ("yandex.ru", "Иван", "Петров"),
            ("acme.ru", "Сергей", "Смирнов"),
            ("globex.ru", "Наталья", "Кузнецова"),
        )
    )
    read = read_leads(write(tmp_path, ("domain,first_name,last_name\n" + rows).encode("cp1251")))
    assert read.encoding == "cp1251"
    assert read.rows[0].lead == {"domain": "yandex.ru", "first_name": "Иван", "last_name": "Петров"}


def test_an_encoding_can_be_forced(tmp_path: Path) -> None:
    data = "domain,last_name\nacme.pl,Wiśniewski\n".encode("cp1250")
    read = read_leads(write(tmp_path, data), encoding="cp1250")
    assert read.encoding == "cp1250" and read.rows[0].lead == {"domain": "acme.pl", "last_name": "Wiśniewski"}
    with pytest.raises(CsvError, match="unknown encoding 'klingon'"):
        read_leads(write(tmp_path, data), encoding="klingon")


def test_bytes_that_break_a_declared_encoding_name_the_line(tmp_path: Path) -> None:
    data = bom_utf8(b"domain\nacme.com\n\xff\xfe\xfd\n")
    with pytest.raises(CsvError, match=r"leads.csv:3: not valid UTF-8 with BOM text"):
        read_leads(write(tmp_path, data))


def bom_utf8(body: bytes) -> bytes:
    return b"\xef\xbb\xbf" + body


def test_decode_reports_how_it_read() -> None:
    assert decode(b"a,b\n") == ("a,b\n", "UTF-8")
    assert decode(b"\xef\xbb\xbfa,b\n") == ("a,b\n", "UTF-8 with BOM")
    assert decode("a,é\n".encode("utf-16")) == ("a,é\n", "UTF-16 with BOM")


def test_an_xls_workbook_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match=r"\.xls.*save it as \.xlsx or CSV"):
        read_leads(write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "leads.xls"))


# --- headers: aliases, case, spacing, --map -----------------------------------------------------------------


@pytest.mark.parametrize(("field", "alias"), [(f, a) for f, names in ALIASES.items() for a in names])
def test_every_alias_names_its_field(tmp_path: Path, field: str, alias: str) -> None:
    header = alias if field == "domain" else f"domain,{alias}"
    value = "acme.com" if field == "domain" else "Some Value"
    line = value if field == "domain" else f"acme.com,{value}"
    read = read_leads(write(tmp_path, f"{header}\n{line}\n"))
    assert read.mapping[field] == alias
    assert read.rows[0].lead is not None and read.rows[0].lead[field] == value


@pytest.mark.parametrize(
    "header",
    [
        "Website",
        "WEBSITE",
        " website ",
        "Web Site",
        "web_site",
        "Web-Site",
        "Company Domain",
        "COMPANY_DOMAIN",
    ],
)
def test_headers_ignore_case_spaces_underscores_and_hyphens(tmp_path: Path, header: str) -> None:
    read = read_leads(
        write(tmp_path, f'"{header}",First-Name,LAST_NAME,Company Name\nacme.com,Jane,Doe,Acme\n')
    )
    assert read.mapping == {
        "domain": header.strip(),
        "company_name": "Company Name",
        "first_name": "First-Name",
        "last_name": "LAST_NAME",
    }
    assert read.rows[0].lead == {
        "domain": "acme.com",
        "company_name": "Acme",
        "first_name": "Jane",
        "last_name": "Doe",
    }


def test_a_typical_crm_export_is_read_without_a_map(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Record ID,First Name,Last Name,Company Name,Website URL,Phone\n"
        "1001,Jane,Doe,Acme,https://www.acme.com/about,+1 555 0100\n",
    )
    read = read_leads(path)
    assert read.rows[0].lead == {
        "domain": "https://www.acme.com/about",  # the API model accepts it; the domain is normalised later
        "company_name": "Acme",
        "first_name": "Jane",
        "last_name": "Doe",
        "external_id": "1001",
    }
    assert read.columns == ("Record ID", "First Name", "Last Name", "Company Name", "Website URL", "Phone")


def test_when_several_columns_match_the_alias_priority_decides_and_says_so(tmp_path: Path) -> None:
    read = read_leads(write(tmp_path, "URL,Website,Company Domain\nlinkedin.com,acme.com,acme.io\n"))
    assert read.mapping == {"domain": "Company Domain"}
    assert read.rows[0].domain == "acme.io"
    assert any("'URL' not used: domain comes from 'Company Domain'" in note for note in read.notes)
    assert any("'Website' not used" in note for note in read.notes)
    assert "domain <- 'Company Domain'" in read.describe()[0]


def test_two_columns_with_the_same_name_the_first_wins(tmp_path: Path) -> None:
    read = read_leads(write(tmp_path, "domain,Domain\nacme.com,globex.io\n"))
    assert read.rows[0].domain == "acme.com"
    assert any("'Domain' not used" in note for note in read.notes)


def test_a_file_without_a_domain_column_lists_what_it_found_and_what_it_accepts(tmp_path: Path) -> None:
    path = write(tmp_path, "Homepage,Name\nacme.com,Jane\n")
    with pytest.raises(CsvError) as raised:
        read_leads(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: the header must have a 'domain' column")
    assert "found: 'Homepage', 'Name'" in message
    assert "'website'" in message and "'url'" in message and "--map domain=<column>" in message


def test_map_names_the_columns_and_wins_over_aliases(tmp_path: Path) -> None:
    path = write(tmp_path, "Homepage,Website,Contact First,Contact Last\nacme.com,other.com,Jane,Doe\n")
    column_map = parse_column_map('domain=Homepage,first_name="Contact First",last_name=Contact Last')
    read = read_leads(path, column_map)
    assert read.mapping == {"domain": "Homepage", "first_name": "Contact First", "last_name": "Contact Last"}
    assert read.rows[0].lead == {"domain": "acme.com", "first_name": "Jane", "last_name": "Doe"}


def test_map_matches_a_column_in_any_case_and_spacing(tmp_path: Path) -> None:
    path = write(tmp_path, "Home Page,x\nacme.com,1\n")
    assert read_leads(path, {"domain": "home_page"}).mapping == {"domain": "Home Page"}


def test_map_to_a_missing_column_names_it_and_the_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, "domain,Name\nacme.com,Jane\n")
    with pytest.raises(
        ColumnMapError, match=r"--map first_name=Vorname: no such column \(found: 'domain', 'Name'\)"
    ):
        read_leads(path, {"first_name": "Vorname"})


def test_parse_column_map() -> None:
    assert parse_column_map("domain=Website") == {"domain": "Website"}
    assert parse_column_map('Domain=Website, first-name="First Name",COMPANY NAME=Account') == {
        "domain": "Website",
        "first_name": "First Name",
        "company_name": "Account",
    }
    assert parse_column_map("company_name='Acme, Inc. name'") == {"company_name": "Acme, Inc. name"}
    assert parse_column_map("company_name=Owner's Company,domain=Site") == {
        "company_name": "Owner's Company",
        "domain": "Site",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("emial=Email", r"unknown field 'emial' \(fields: domain, company_name, first_name"),
        ("domain", "domain needs a column"),
        ("domain=", "domain needs a column"),
        ("domain=A,domain=B", "domain is mapped twice"),
        ("", "expected field=<column>"),
    ],
)
def test_parse_column_map_errors_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ColumnMapError, match=message):
        parse_column_map(text)


def test_a_map_error_is_a_csv_error() -> None:
    assert issubclass(ColumnMapError, CsvError)


# --- .xlsx --------------------------------------------------------------------------------------------------


def workbook(tmp_path: Path, rows: dict[int, list[object]], title: str = "Leads") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for number, values in rows.items():
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    path = tmp_path / "leads.xlsx"
    book.save(path)
    return path


def test_xlsx_rows_are_read_with_their_sheet_row_numbers(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        {
            1: ["Website", "First Name", "Last Name", "Record ID", "Added"],
            2: ["acme.com", "José", "Müller", 12345, datetime.datetime(2024, 5, 1)],
            3: [None, None, None, None, None],
            5: ["not a domain", "x", "y", 7.5],
            6: ["globex.io", None, None, 12.0],
        },
    )
    read = read_leads(path)
    assert read.kind == "xlsx" and read.sheet == "Leads"
    assert [row.line for row in read.rows] == [2, 5, 6]
    assert read.rows[0].lead == {
        "domain": "acme.com",
        "first_name": "José",
        "last_name": "Müller",
        "external_id": "12345",
    }
    assert read.rows[0].values == ("acme.com", "José", "Müller", "12345", "2024-05-01")
    assert read.rows[1].problem is not None and read.rows[1].problem.startswith("line 5: field 'domain'")
    assert read.rows[2].external_id == "12"
    assert "sheet 'Leads'" in read.describe()[0]


def test_xlsx_header_below_blank_rows_and_columns(tmp_path: Path) -> None:
    path = workbook(tmp_path, {3: [None, "Domain", "Company"], 4: [None, "acme.com", "Acme"]})
    read = read_leads(path)
    assert read.columns == ("", "Domain", "Company")
    assert [(row.line, row.lead) for row in read.rows] == [
        (4, {"domain": "acme.com", "company_name": "Acme"})
    ]


def test_xlsx_is_recognised_by_content_whatever_its_name(tmp_path: Path) -> None:
    path = workbook(tmp_path, {1: ["domain"], 2: ["acme.com"]})
    renamed = path.rename(tmp_path / "export.csv")
    assert read_leads(renamed).kind == "xlsx"


def test_a_broken_xlsx_is_a_csv_error(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match=r"not a readable \.xlsx workbook"):
        read_leads(write(tmp_path, b"PK\x03\x04 not really a zip", "leads.xlsx"))


# --- physical line numbers ----------------------------------------------------------------------------------


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, f"\n{HEADER}\n\nacme.com\n\n\n,,,,\nnot a domain\n")
    rows = read_rows(path)
    assert [row.line for row in rows] == [4, 8]
    assert rows[1].problem is not None and rows[1].problem.startswith("line 8: field 'domain': ")


def test_line_numbers_after_a_multi_line_quoted_field(tmp_path: Path) -> None:
    text = (
        f'{HEADER}\r\nacme.com,"Acme\r\nRobotics\r\nGmbH",,,a\r\n'
        'not a domain,,,,b\r\nglobex.io,"x\ny",,,c\r\n'
    )
    rows = read_rows(write(tmp_path, text))
    assert [row.line for row in rows] == [2, 5, 6]
    assert rows[0].lead is not None and rows[0].lead["company_name"] == "Acme\r\nRobotics\r\nGmbH"
    assert rows[1].problem is not None and rows[1].problem.startswith("line 5: field 'domain'")


def test_a_quote_never_closed_names_the_line_it_opened_on(tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\nacme.com,Acme\nglobex.io,"Globex\nthird,line\n')
    with pytest.raises(CsvError, match=r"leads.csv:3: malformed CSV: a quoted field opened on line 3"):
        read_rows(path)


def test_a_stray_quote_inside_a_field_is_read_leniently(tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\nacme.com,"Acme" Robotics\nglobex.io,Globex "The" Best\n')
    rows = read_rows(path)
    assert [row.line for row in rows] == [2, 3]
    assert [row.lead and row.lead.get("company_name") for row in rows] == [
        "Acme Robotics",
        'Globex "The" Best',
    ]


def test_problems_name_the_line_and_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "domain,first_name\nacme.com," + "x" * 300 + "\n,Jane\n")
    rows = read_rows(path)
    assert rows[0].problem is not None and rows[0].problem.startswith("line 2: field 'first_name': ")
    assert rows[1].problem is not None and rows[1].problem.startswith("line 3: field 'domain': ")


def test_a_problem_in_an_aliased_column_names_the_column_too(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "Website\nnot a domain\n"))
    assert rows[0].problem == (
        "line 2: field 'domain': domain 'not a domain' is not a host name (column 'Website')"
    )


# --- blank rows, short and long rows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "blank"),
    [
        (",", ",,,,"),
        (";", ";;;;"),
        ("\t", "\t\t\t\t"),
        (",", "  ,  , ,,"),
        (",", '"","","","",""'),
        (",", ""),
    ],
)
def test_blank_rows_never_become_leads(tmp_path: Path, delimiter: str, blank: str) -> None:
    header, first, second = (
        line.replace(",", delimiter) for line in (HEADER, "acme.com,Acme,,,1", "globex.io,,,,2")
    )
    path = write(tmp_path, "\n".join([header, first, blank, second, blank, blank]))
    rows = read_rows(path)
    assert [row.external_id for row in rows] == ["1", "2"]
    assert all(row.problem is None for row in rows)


def test_a_file_with_only_blank_lines_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="empty: no header row"):
        read_rows(write(tmp_path, "\n,,,\n\n"))


def test_a_header_without_rows_gives_no_rows(tmp_path: Path) -> None:
    assert read_rows(write(tmp_path, HEADER + "\n")) == []


def test_rows_keep_the_input_columns_padded_and_cut_to_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "Website,Notes,Owner\nacme.com,short\nglobex.io,a,b,extra\n")
    read = read_leads(path)
    assert read.rows[0].columns == ("Website", "Notes", "Owner")
    assert read.rows[0].values == ("acme.com", "short", "")
    assert read.rows[1].values == ("globex.io", "a", "b")
    assert read.rows[1].cells == {"Website": "globex.io", "Notes": "a", "Owner": "b"}
    assert any("1 rows have more cells than the header's 3 columns (first: line 3)" in n for n in read.notes)


# --- duplicates ---------------------------------------------------------------------------------------------


def test_duplicates_are_flagged_with_the_line_they_repeat(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Website,First Name,Last Name,Company,ID\n"
        "https://www.acme.com/about,José,Müller,Acme,a1\n"
        "globex.io,,,Globex,\n"
        "ACME.com, josé , MÜLLER ,ACME,A1\n"  # same lead: domain normalised, the rest case-insensitive
        "acme.com,José,Müller,Acme,a2\n"  # another external id: another lead
        "globex.io,,,globex,\n"
        "not a domain,,,,\n"
        "not a domain,,,,\n",  # refused rows are each reported, never folded
    )
    read = read_leads(path)
    assert [(row.line, row.duplicate_of) for row in read.rows] == [
        (2, None),
        (3, None),
        (4, 2),
        (5, None),
        (6, 3),
        (7, None),
        (8, None),
    ]
    assert [row.sendable for row in read.rows] == [True, True, False, True, False, False, False]
    assert read.rows[2].lead is not None  # a duplicate keeps its lead; `sendable` keeps it from being sent
    assert [row.line for row in read.duplicates] == [4, 6]
    described = read.describe()
    assert f"{path} line 4: duplicate of line 2: enriched once" in described
    assert f"{path} line 6: duplicate of line 3: enriched once" in described


def test_repeats_by_line_groups_duplicates_under_their_first_occurrence(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, "domain\nacme.com\nglobex.io\nacme.com\nACME.com\nglobex.io\n"))
    assert {line: [r.line for r in repeats] for line, repeats in repeats_by_line(rows).items()} == {
        2: [4, 5],
        3: [6],
    }


def test_many_duplicates_are_summarised(tmp_path: Path) -> None:
    path = write(tmp_path, "domain\n" + "acme.com\n" * 15)
    read = read_leads(path)
    assert len(read.duplicates) == 14
    assert read.describe()[-1] == "... and 4 more duplicate rows"


# --- files that cannot be used ------------------------------------------------------------------------------


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="cannot read"):
        read_rows(tmp_path / "nope.csv")


def test_nul_characters_in_utf8_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="NUL"):
        read_rows(write(tmp_path, b"domain\nacme.com\x00\n"))


def test_read_rows_is_read_leads_rows(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nacme.com,Acme,Jane,Doe,1\n")
    assert read_rows(path) == read_leads(path).rows
    assert isinstance(read_leads(path), LeadFile)
