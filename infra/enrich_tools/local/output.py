"""Results files, JSON Lines or CSV: streamed while results arrive, or written whole at the end.

JSON Lines: one record (see `results`) per line. CSV: one row per input row, the input's own columns first
(as written, in order), then RESULT_COLUMNS: the outcome and the primary contact (the lead's `primary`
address, else its first), with the other addresses `; `-joined. An input column named like a result
column (case, spaces and punctuation ignored) keeps its name; the result's becomes `enrich_<name>`. A
job made from stored leads has no input columns: its rows start with `external_id` and `domain`. Which
result columns follow the input's, and how a record fills them, is a `Layout`: `LEADS` for enrichment,
another for `enrich verify` (`verify_command.ADDRESSES`).

Decisions worth knowing:

* CSV is Excel-safe: any cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
  leading `'`, so a spreadsheet shows it as text instead of running it as a formula (CSV injection);
  plain numbers such as `-5` or `+1.5` are left alone, since Excel reads them as numbers, not formulas.
* CSV starts with a UTF-8 byte-order mark by default (`bom=False` leaves it out): without one Excel reads
  UTF-8 as the machine's code page and mangles every accented name. Other tools, this one included,
  skip it. JSON Lines never has one.
* Streaming (`ResultWriter`) flushes each record as one write, so a process killed with SIGKILL leaves
  whole records on disk (not fsynced: a power cut may still lose the last ones). Appending to a file
  that a killed run left with a torn last line cuts that line off first; appending CSV to a file with
  another header is refused.
* A whole-file write (`write_results`) goes to a temporary file beside the target and replaces it, so a
  half-written file never passes for a complete one; its rows are in input order whatever order the
  records arrived in.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self

from enrich_tools.local.rows import CsvRow, header_key

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
RESULT_COLUMNS = (
    "status",
    "reason",
    "email",
    "first_name",
    "last_name",
    "position",
    "source",
    "method",
    "confidence_score",
    "hunter_status",
    "email_status",
    "verified_at",
    "deliverability",
    "contact",
    "other_emails",
)
STORED_LEAD_COLUMNS = ("external_id", "domain")  # leading columns when the records have no input rows
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class OutputError(ValueError):
    """The results cannot go where asked: an unknown format, a workbook, or a CSV with another header."""


def output_format(path: Path | str, forced: str | None = None) -> Format:
    """`forced` (csv|jsonl, from --format) if given, else by the name: `.csv` is CSV, anything else JSON
    Lines (what every output was before CSV); a workbook name is refused rather than filled with JSON."""
    if forced is not None:
        choice = forced.strip().lower()
        if choice == "csv":
            return "csv"
        if choice == "jsonl":
            return "jsonl"
        raise OutputError(f"--format {forced!r}: expected one of {', '.join(FORMATS)}")
    suffix = Path(path).suffix.lower()
    if suffix in _WORKBOOK_SUFFIXES:
        raise OutputError(f"{path}: cannot write a workbook; write .csv (Excel opens it) or .jsonl")
    return "csv" if suffix == ".csv" else "jsonl"


def excel_safe(text: str) -> str:
    """The cell as a spreadsheet shows it as text: formula-like starts get a leading `'`."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_header(
    columns: Sequence[str],
    results: Sequence[str] = RESULT_COLUMNS,
    stored: Sequence[str] = STORED_LEAD_COLUMNS,
) -> list[str]:
    """The input's columns (or `stored`, the record's own, when there are none), then the result columns."""
    leading = list(columns) if columns else list(stored)
    taken = {header_key(name) for name in leading}
    header = list(leading)
    for name in results:
        while header_key(name) in taken:
            name = f"enrich_{name}"
        taken.add(header_key(name))
        header.append(name)
    return header


@dataclass(frozen=True)
class Layout:
    """The result columns a CSV adds after the input's, and the cells a record gives them, in order."""

    columns: tuple[str, ...]
    cells: Callable[[Mapping[str, Any]], list[Any]]
    stored: tuple[str, ...] = STORED_LEAD_COLUMNS  # the record's fields that lead when there is no input


def csv_cells(
    record: Mapping[str, Any], row: CsvRow | None, columns: Sequence[str], layout: Layout | None = None
) -> list[str]:
    """One CSV row (not yet Excel-safe): the input row's cells, then the record's outcome."""
    layout = layout or LEADS
    if not columns:
        leading = [record.get(name) for name in layout.stored]
    elif row is not None:
        leading = [*row.values[: len(columns)], *[""] * (len(columns) - len(row.values))]
    else:
        leading = [""] * len(columns)
    outcome = layout.cells(record)
    return [_text(value) for value in [*leading, *outcome]]


def lead_cells(record: Mapping[str, Any]) -> list[Any]:
    """A lead's outcome and its primary contact (RESULT_COLUMNS)."""
    emails: list[Mapping[str, Any]] = list(record.get("emails") or [])
    primary = next((e for e in emails if e.get("email_type") == "primary"), emails[0] if emails else {})
    others = [str(e.get("email")) for e in emails if e is not primary and e.get("email")]
    return [
        record.get("status"),
        record.get("reason"),
        primary.get("email"),
        primary.get("first_name"),
        primary.get("last_name"),
        primary.get("position"),
        primary.get("source"),
        primary.get("method"),
        primary.get("confidence_score"),
        primary.get("hunter_status"),
        primary.get("status"),
        primary.get("verified_at"),
        primary.get("deliverability"),
        primary.get("contact"),
        "; ".join(others),
    ]


LEADS = Layout(RESULT_COLUMNS, lead_cells)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class ResultWriter:
    """Records to a results file one at a time, each flushed as it is written.

    `rows` are the input rows (CSV takes each record's cells from the row of its `line`); `columns`
    defaults to the rows' header. `append=True` continues a file a previous run began."""

    def __init__(
        self,
        path: Path,
        fmt: Format,
        rows: Sequence[CsvRow] = (),
        *,
        columns: Sequence[str] | None = None,
        append: bool = False,
        bom: bool | None = None,
        delimiter: str = ",",
        flush_each: bool = True,
        layout: Layout = LEADS,
    ) -> None:
        self.path, self.format, self.written, self.layout = path, fmt, 0, layout
        self._columns = tuple(columns) if columns is not None else (rows[0].columns if rows else ())
        self._rows = {row.line: row for row in rows}
        self._flush_each = flush_each
        header = csv_header(self._columns, layout.columns, layout.stored) if fmt == "csv" else []
        continuing = append and _repair_tail(path) > 0
        if continuing and fmt == "csv":
            _check_header(path, header, delimiter)
        self._handle: IO[str] = path.open("a" if append else "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._handle, delimiter=delimiter, lineterminator="\r\n")
        if fmt == "csv" and not continuing:
            if bom is None or bom:
                self._handle.write("\ufeff")
            self._csv.writerow([excel_safe(name) for name in header])
            self._handle.flush()

    def write(self, record: Mapping[str, Any]) -> None:
        if self.format == "csv":
            line = record.get("line")
            row = self._rows.get(line) if isinstance(line, int) else None
            cells = csv_cells(record, row, self._columns, self.layout)
            self._csv.writerow([excel_safe(c) for c in cells])
        else:
            self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        if self._flush_each:
            self._handle.flush()
        self.written += 1

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def write_results(
    path: Path,
    fmt: Format,
    rows: Sequence[CsvRow],
    records: Iterable[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    bom: bool | None = None,
    delimiter: str = ",",
    layout: Layout = LEADS,
) -> None:
    """The whole results file, written to a temporary file and then moved over `path` (all or nothing),
    the records in the order of `rows` (records of no row keep their order, after the others)."""
    position = {row.line: index for index, row in enumerate(rows)}

    def order(record: Mapping[str, Any]) -> int:
        line = record.get("line")
        return position.get(line, len(position)) if isinstance(line, int) else len(position)

    ordered = sorted(records, key=order)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with ResultWriter(
            partial, fmt, rows, columns=columns, bom=bom, delimiter=delimiter, flush_each=False, layout=layout
        ) as writer:
            for record in ordered:
                writer.write(record)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _repair_tail(path: Path) -> int:
    """Cut a torn last line (a run killed mid-write) off the file; its size after, 0 when absent."""
    try:
        with path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            end = size
            while end > 0:
                start = max(0, end - 65_536)
                handle.seek(start)
                chunk = handle.read(end - start)
                if end == size and chunk.endswith(b"\n"):
                    return size
                if (newline := chunk.rfind(b"\n")) >= 0:
                    handle.truncate(start + newline + 1)
                    return start + newline + 1
                end = start
            handle.truncate(0)
            return 0
    except FileNotFoundError:
        return 0


def _check_header(path: Path, header: list[str], delimiter: str) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = next(csv.reader(io.StringIO(handle.readline(), newline=""), delimiter=delimiter), [])
    if first != [excel_safe(name) for name in header]:
        raise OutputError(f"{path}: has other columns than these results; cannot append to it")
