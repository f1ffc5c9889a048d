"""Lead files as sales tools export them: a header and records, each with the physical line it starts on.

CSV or TSV in any of the encodings spreadsheets write, or an .xlsx workbook; what comes out is plain text
cells either way. Decisions worth knowing:

* Encoding: a byte-order mark decides (UTF-8, UTF-16, UTF-32); else bytes that decode as UTF-8 are
  UTF-8; else NUL bytes in every other position mean UTF-16 without a mark; else charset-normalizer
  chooses among the Windows code pages and the common East Asian encodings, and Windows-1252 wins
  whenever it reads the bytes as well as its best guess (on a few accented names it cannot tell cp1252
  from cp1250 or cp775, and Western Europe and the Americas are where Excel writes cp1252). Latin-1 is
  the last resort: it decodes anything. `encoding=` overrides all of this.
* Delimiter: csv.Sniffer among `,` `;` tab `|`, kept only when the header line holds it; else the one the
  header line holds most; else a comma (a one-column file has no delimiter).
* Lines are physical: a record's line is where it starts, so blank lines and quoted fields spanning
  lines do not shift the numbers. In a workbook the line is the sheet's row number.
* Blank records (nothing but empty or space-only cells, such as a trailing `,,,,`) are dropped here; the
  first record with a non-empty cell is the header.
* A quote left open at the end of the file is an error naming the line it opened on, rather than a last
  field swallowing the rest of the file; a stray quote inside a field is read as text.
* Workbooks: the active sheet, in openpyxl's read-only mode (rows stream; formulas give their cached
  values). Whole numbers stored as floats lose the `.0` (an id 12345 stays "12345"); dates become ISO
  8601.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

DELIMITERS = ",;\t|"
SNIFF_CHARS = 32_768
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls (Excel 97-2003) and password-protected .xlsx
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 with BOM"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 with BOM"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 with BOM"),
)
# What charset-normalizer may choose from: the Windows code pages spreadsheets write, and East Asia's.
_CANDIDATES = ["cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257"]
_CANDIDATES += ["cp932", "gb18030", "big5", "euc_kr"]
_CHAOS_TOLERANCE = 0.01


class CsvError(ValueError):
    """The file cannot be used at all: unreadable, undecodable, malformed, or without a `domain` column."""


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]  # as written, trimmed
    records: list[tuple[int, tuple[str, ...]]]  # (line it starts on, cells), blank records left out
    kind: Literal["csv", "xlsx"]
    header_line: int
    encoding: str | None = None  # csv: how the bytes were read, e.g. "UTF-16 with BOM", "cp1252"
    delimiter: str | None = None  # csv: the delimiter used
    sheet: str | None = None  # xlsx: the sheet read


def read_table(path: Path, encoding: str | None = None) -> Table:
    """The header and the non-blank records of a CSV/TSV file or an .xlsx workbook (by content, then name)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if data.startswith(_OLE_MAGIC):
        raise CsvError(
            f"{path}: an Excel 97-2003 (.xls) or password-protected workbook: save it as .xlsx or CSV"
        )
    if data.startswith(_ZIP_MAGIC) or path.suffix.lower() in XLSX_SUFFIXES:
        return _read_xlsx(path, data)
    text, label = decode(data, encoding, path)
    delimiter = sniff_delimiter(text)
    header, records = _split_header(path, _csv_records(path, text, delimiter))
    return Table(header[1], records, "csv", header[0], encoding=label, delimiter=delimiter)


# --- text -------------------------------------------------------------------------------------------------


def decode(data: bytes, encoding: str | None = None, path: Path | str = "") -> tuple[str, str]:
    """(text, how it was read). See the module's docstring for the order of the guesses."""
    text, label = _decode(data, encoding, path)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvError(f"{path}:{line}: NUL characters: not {label} text")
    return text.removeprefix("\ufeff"), label


def _decode(data: bytes, encoding: str | None, path: Path | str) -> tuple[str, str]:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CsvError(f"unknown encoding {encoding!r}") from None
        return _strict(data, encoding, encoding, path), encoding
    for mark, codec, label in _BOMS:
        if data.startswith(mark):
            return _strict(data, codec, label, path), label
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    if (wide := _utf16_without_bom(data)) is not None:
        return _strict(data, wide, wide.upper(), path), wide.upper()
    codec = _guess_code_page(data)
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"  # decodes any byte


def _strict(data: bytes, codec: str, label: str, path: Path | str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].decode(codec, errors="replace").count("\n") + 1
        raise CsvError(f"{path}:{line}: not valid {label} text ({exc.reason})") from None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 written without a mark: mostly-ASCII text has a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even = sample[0::2].count(0) / (len(sample) // 2)
    odd = sample[1::2].count(0) / (len(sample) // 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _guess_code_page(data: bytes) -> str:
    from charset_normalizer import from_bytes  # only for the files that need it

    matches = from_bytes(data, cp_isolation=_CANDIDATES)
    best = matches.best()
    if best is None:
        return "cp1252"
    readable: set[str] = set()
    for match in matches:
        if match.chaos <= best.chaos + _CHAOS_TOLERANCE:
            readable.update([match.encoding, *match.could_be_from_charset])
    return "cp1252" if "cp1252" in readable else best.encoding


def sniff_delimiter(text: str) -> str:
    """`,` `;` tab or `|`: Sniffer's choice when the header line holds it, else the header's commonest."""
    header = next((line for line in text[:SNIFF_CHARS].splitlines() if line.strip()), "")
    counts = {d: _count_unquoted(header, d) for d in DELIMITERS}
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and counts.get(sniffed):
        return sniffed
    commonest = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier in DELIMITERS
    return commonest if counts[commonest] else ","


def _count_unquoted(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _csv_records(path: Path, text: str, delimiter: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Every record with the line it starts on. A quote open at the end of the file is an error; other
    quoting faults (text after a closing quote) are read leniently, from the record that had one."""
    try:
        yield from _parse(text, delimiter, strict=True)
    except _Malformed as exc:
        if exc.at_end:
            raise CsvError(
                f"{path}:{exc.line}: malformed CSV: a quoted field opened on line {exc.line} is never closed"
            ) from None
        if "field larger than field limit" in exc.message:
            raise CsvError(f"{path}:{exc.line}: malformed CSV: {exc.message}") from None
        try:
            yield from _parse(text, delimiter, strict=False, after=exc.line - 1)
        except _Malformed as again:
            raise CsvError(f"{path}:{again.line}: malformed CSV: {again.message}") from None


class _Malformed(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message
        self.at_end = message == "unexpected end of data"


def _parse(
    text: str, delimiter: str, *, strict: bool, after: int = 0
) -> Iterator[tuple[int, tuple[str, ...]]]:
    """The records that start after line `after` (the ones before it were given already)."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=strict
    )
    end = 0  # the physical line the previous record ended on
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _Malformed(start, str(exc)) from None
        end = reader.line_num
        if start > after:
            yield start, tuple(cells)


def _split_header(
    path: Path, records: Iterable[tuple[int, tuple[str, ...]]]
) -> tuple[tuple[int, tuple[str, ...]], list[tuple[int, tuple[str, ...]]]]:
    """The first non-blank record is the header; blank records are dropped."""
    header: tuple[int, tuple[str, ...]] | None = None
    kept: list[tuple[int, tuple[str, ...]]] = []
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = (line, tuple(cell.strip().strip("\ufeff").strip() for cell in cells))
        else:
            kept.append((line, cells))
    if header is None:
        raise CsvError(f"{path}: empty: no header row")
    return header, kept


# --- workbooks ---------------------------------------------------------------------------------------------


def _read_xlsx(path: Path, data: bytes) -> Table:
    import openpyxl  # type: ignore[import-untyped]  # no stubs in the project's pins; only this call

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        raise CsvError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        sheet = workbook.active
        if sheet is None or not hasattr(sheet, "iter_rows"):
            sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # exporters often write a wrong <dimension>; rows carry their own width
        rows = sheet.iter_rows(min_row=1, values_only=True)
        records = ((number, tuple(_cell_text(v) for v in row)) for number, row in enumerate(rows, start=1))
        header, kept = _split_header(path, records)
        title = str(sheet.title)
    except CsvError:
        raise
    except Exception as exc:  # a damaged part of the workbook shows only while its rows are read
        raise CsvError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    finally:
        workbook.close()
    return Table(header[1], kept, "xlsx", header[0], sheet=title)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
