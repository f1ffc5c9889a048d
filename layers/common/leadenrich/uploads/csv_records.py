"""An uploaded leads CSV as records, read from bytes in any chunks: pure, no I/O (the loader reads).

A record ends at a newline outside quotes. `"` and `\\n` are one byte each in UTF-8 and never part of a
longer character, so quote parity over the bytes splits records exactly, and each record's end is a byte
offset a reader can resume from with a ranged read (`RecordSplitter(offset, line)`) without reading what
came before. Lines are physical: a record's line is the one it starts on (the header's is 1 when it comes
first), so a quoted cell spanning lines and blank lines do not shift the numbers of the rows after them.

What is accepted: UTF-8 (with or without a byte-order mark), LF or CRLF line ends, `,` `;` or tab between
cells (the one the header holds most of, outside quotes; a comma when it holds none), RFC 4180 quoting
(`""` inside a quoted cell). The first record with a non-empty cell is the header; its columns are found
by name (`leadenrich.uploads.columns`), after the caller's `column_map`. Blank records are skipped.

Each data row is checked with the API's own model (`jobs.requests.JobLead`), as `enrich` does: it becomes
a `Lead` or a `RowError(line, field, message)`; a row with more non-empty cells than the header has columns
is refused too (a delimiter inside an unquoted cell would otherwise shift every value). Whatever makes the
file unreadable as a whole raises `CsvFileError`, its message naming the line: not UTF-8, NUL bytes (a
binary or UTF-16 file), no header or no domain or company column, a quoted cell never closed, a stray quote
or a lone carriage return that breaks the record structure, a record over `MAX_RECORD_BYTES`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from leadenrich.engine.models import Lead
from leadenrich.jobs.requests import JobLead
from leadenrich.uploads.columns import MissingColumn, NoLeadColumn, UnknownField, listing
from leadenrich.uploads.columns import resolve_columns as _resolve
from leadenrich.uploads.models import RowError

MAX_RECORD_BYTES = 1 << 20  # 1 MiB: one row; a longer one is a quote left open or not a CSV
BOM = b"\xef\xbb\xbf"
DELIMITERS = (",", ";", "\t")
MAX_HEADER_NAME = 256  # characters of a header name kept (`Header.names`)
SAVE_AS_UTF8 = "save it as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8) and upload it again"


class CsvFileError(ValueError):
    """The file cannot be read as a leads CSV at all; `line` is where (the message starts with it)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Record:
    line: int  # the physical line it starts on
    start: int  # the byte offset it starts at
    end: int  # the byte offset just after its line end (or the end of the file): where the next starts
    data: bytes  # without its line end (LF or CRLF) and, at offset 0, without a byte-order mark

    @property
    def last_line(self) -> int:
        """The physical line it ends on (a quoted cell may span several)."""
        return self.line + self.data.count(b"\n")


class RecordSplitter:
    """Bytes in, in chunks of any size, complete records out. Holds at most one unfinished record
    (`MAX_RECORD_BYTES`) between chunks. `offset` and `line` say where the first byte fed sits in the file,
    and must be a record's start (0 and 1 for the whole file)."""

    def __init__(self, offset: int = 0, line: int = 1) -> None:
        self._pending = b""  # the unfinished record
        self._start = offset  # its file offset
        self._line = line  # its first line
        self._scanned = 0  # bytes of it scanned for quotes, up to and including its last newline
        self._quoted = False  # whether a quote is open after the scanned bytes

    def feed(self, chunk: bytes) -> list[Record]:
        """The records `chunk` completes (none when it ends inside one)."""
        if b"\x00" in chunk:
            before = self._pending.count(b"\n") + chunk[: chunk.index(b"\x00")].count(b"\n")
            raise CsvFileError(
                self._line + before, f"NUL bytes: a binary file or UTF-16 text, not a CSV: {SAVE_AS_UTF8}"
            )
        data = self._pending + chunk
        records: list[Record] = []
        begin, scan, quoted = 0, self._scanned, self._quoted
        while (newline := data.find(b"\n", scan)) >= 0:
            quoted ^= data.count(b'"', scan, newline) % 2 == 1
            scan = newline + 1
            if not quoted:
                records.append(self._record(data, begin, newline, scan))
                begin = scan
        self._pending = data[begin:]
        self._scanned, self._quoted = scan - begin, quoted
        if len(self._pending) > MAX_RECORD_BYTES:
            raise self._too_long(self._pending)
        return records

    def finish(self) -> list[Record]:
        """The end of the file: its last record when no line end follows it. Raises CsvFileError when a
        quoted cell is still open."""
        data, self._pending = self._pending, b""
        if not data:
            return []
        if self._quoted ^ (data.count(b'"', self._scanned) % 2 == 1):
            line = self._line + data[: _open_quote(data)].count(b"\n")
            raise CsvFileError(line, f"a quoted cell opened on line {line} is never closed")
        return [self._record(data, 0, len(data), len(data))]

    def _record(self, data: bytes, begin: int, stop: int, after: int) -> Record:
        """data[begin:stop] as a record ending at `after` (past its newline)."""
        body = data[begin:stop].removesuffix(b"\r")
        if len(body) > MAX_RECORD_BYTES:
            raise self._too_long(body)
        if self._start == 0:
            body = body.removeprefix(BOM)
        record = Record(self._line, self._start, self._start + after - begin, body)
        self._start, self._line = record.end, record.last_line + 1
        return record

    def _too_long(self, data: bytes) -> CsvFileError:
        if b"\n" not in data and b"\r" in data:
            why = f"its lines end with a carriage return alone (CR, old Mac): {SAVE_AS_UTF8}"
        else:
            why = "a quoted cell left open, or not a CSV file"
        return CsvFileError(self._line, f"a record longer than {MAX_RECORD_BYTES:,} bytes starts here: {why}")


def _open_quote(data: bytes) -> int:
    """Where the quote that is never closed opens."""
    opened, at = -1, data.find(b'"')
    while at >= 0:
        opened = at if opened < 0 else -1
        at = data.find(b'"', at + 1)
    return max(opened, 0)


def split_records(data: bytes) -> list[Record]:
    """A whole file's records (for tests and small files; the loader feeds chunks)."""
    splitter = RecordSplitter()
    return splitter.feed(data) + splitter.finish()


# --- the header ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """What reading the rows needs from the header; kept in `UploadState` between runs."""

    delimiter: str
    columns: tuple[tuple[str, int], ...]  # lead field -> column index
    width: int  # the header's column count
    names: tuple[tuple[str, str], ...] = ()  # lead field -> the header name its values come from


def decode(record: Record) -> str:
    """The record's text; CsvFileError naming the line of the first byte that is not UTF-8."""
    try:
        return record.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = record.line + record.data[: exc.start].count(b"\n")
        byte = record.data[exc.start]
        raise CsvFileError(line, f"not UTF-8 text (byte 0x{byte:02x}): {SAVE_AS_UTF8}") from None


def sniff_delimiter(text: str) -> str:
    """`,` `;` or tab: the one the header holds most of outside quotes (ties: in that order); else `,`."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_header(record: Record, column_map: Mapping[str, str]) -> Header | None:
    """The header's delimiter and columns; None for a blank record (the header is the first that is not).
    Raises CsvFileError when the columns cannot give leads."""
    text = decode(record)
    if "\r" in text:
        why = (
            "a carriage return inside the header" if '"' in text else "lines end with a carriage return alone"
        )
        why += " (CR, old Mac)"
        raise CsvFileError(record.line, f"{why}: {SAVE_AS_UTF8}")
    delimiter = sniff_delimiter(text)
    try:
        cells = _cells(record, text, delimiter)
    except csv.Error as exc:  # a cell longer than the csv module's limit (128 KiB)
        raise CsvFileError(record.line, f"malformed CSV header: {exc}") from None
    names = tuple(cell.strip().strip("\ufeff").strip() for cell in cells)
    if not any(names):
        return None
    try:
        resolved = _resolve(names, column_map)
    except UnknownField as exc:  # `columns` is checked at creation: only a stored map can get here
        raise CsvFileError(record.line, f"columns: {exc}") from None
    except MissingColumn as exc:
        found = f"no column named {exc.wanted!r} (found: {listing(names)})"
        raise CsvFileError(record.line, f"columns.{exc.field}: {found}") from None
    except NoLeadColumn as exc:
        hint = 'or name yours in the job\'s "columns": {"domain": "<column>"}'
        raise CsvFileError(record.line, f"{exc}; {hint}") from None
    columns = tuple(resolved.columns.items())
    mapped = tuple((field, names[index][:MAX_HEADER_NAME]) for field, index in columns)
    return Header(delimiter, columns, len(names), mapped)


# --- the rows -----------------------------------------------------------------------------------------------


def read_row(record: Record, header: Header) -> Lead | RowError | None:
    """The row's lead, or why it is refused; None for a blank row. Raises CsvFileError when the record
    itself is broken (not UTF-8, a stray quote or carriage return splitting it)."""
    text = decode(record)
    try:
        cells = _cells(record, text, header.delimiter)
    except csv.Error as exc:  # a cell longer than the csv module's limit (128 KiB)
        return RowError(record.line, "row", f"malformed CSV: {exc}")
    if not any(cell.strip() for cell in cells):
        return None
    extra = [cell for cell in cells[header.width :] if cell.strip()]
    if extra:
        return RowError(
            record.line,
            "row",
            f"{len(cells)} cells but the header has {header.width} columns: a cell holding the delimiter "
            f"{header.delimiter!r} must be in double quotes",
        )
    raw = {field: cells[index] for field, index in header.columns if index < len(cells) and cells[index]}
    try:
        lead = JobLead.model_validate(raw)
    except ValidationError as exc:
        field, message = lead_problem(exc)
        name = dict(header.names).get(field)
        where = f" (column {name!r})" if name and name != field else ""
        return RowError(record.line, field, f"{message}{where}")
    # A plain Lead, as `CreateJobRequest.all_leads` makes them; JobLead's checks are Lead's and more, so its
    # values need no second validation (a third of a row's time).
    return Lead.model_construct(**lead.model_dump())


def lead_problem(exc: ValidationError) -> tuple[str, str]:
    """A row's first problem as `JobLead` found it: the field (dotted) and the message, as a person reads
    it (shared with the `enrich` command's reader, `enrich_tools.local.rows`)."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "row"
    return field, str(first["msg"]).removeprefix("Value error, ")


def _cells(record: Record, text: str, delimiter: str) -> list[str]:
    """One record's cells. The csv module agrees with the quote parity that made the record unless a quote
    sits inside an unquoted cell or a carriage return stands alone: then it sees several rows."""
    rows = list(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=False)
    )
    if len(rows) <= 1:
        return rows[0] if rows else []
    if '"' in text:
        why = (
            "a double quote inside an unquoted cell joins lines into one row: put such a cell in double "
            'quotes and double the quotes inside it ("5"" screen")'
        )
    else:
        why = f"a carriage return (CR) alone inside a row: {SAVE_AS_UTF8}"
    raise CsvFileError(record.line, why)


__all__ = [
    "BOM",
    "MAX_RECORD_BYTES",
    "CsvFileError",
    "Header",
    "Record",
    "RecordSplitter",
    "decode",
    "read_header",
    "read_row",
    "sniff_delimiter",
    "split_records",
]
