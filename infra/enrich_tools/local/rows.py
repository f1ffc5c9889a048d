"""Reading a leads file for the jobs API: every row kept, each sendable, refused (with why) or a duplicate.

The file is a CSV/TSV in any common encoding or an .xlsx workbook, as sales tools export them (`sheets`
reads it). Its columns are found by name, in any case and spacing, under common aliases ("Website",
"First Name", "Company", "Record ID" ...) or as `--map field=Column` says. Rows are checked with the API's
own request model, so a row the API would refuse (and with it the whole job, since one request carries
every lead) is held back here and reported instead of sent.

A row that repeats an earlier one (same domain once normalised, same names, company and external id,
case and spacing ignored) is a duplicate: it keeps its lead but is not sent (`CsvRow.sendable`), and its
output is the earlier row's result (`results.duplicate_record`, `results.expand_duplicates`). Only valid
rows are compared: every refused row is reported on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from enrich_tools.local.sheets import CsvError, Table, read_table
from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.jobs.requests import JobLead
from leadenrich.uploads.columns import (
    ALIASES,
    FIELDS,
    MissingColumn,
    NoLeadColumn,
    UnknownField,
    field_named,
    header_key,
    resolve_columns,
)
from leadenrich.uploads.csv_records import lead_problem

__all__ = [
    "ALIASES",
    "CSV_COLUMNS",
    "FIELDS",
    "ColumnMapError",
    "CsvError",
    "CsvRow",
    "LeadFile",
    "header_key",
    "parse_column_map",
    "read_leads",
    "read_rows",
    "repeats_by_line",
]

CSV_COLUMNS = FIELDS  # the former name
MAX_LISTED_DUPLICATES = 10


class ColumnMapError(CsvError):
    """A `--map` that cannot be followed: malformed, an unknown field, or a column the file lacks."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # the physical line the row starts on, counting the header's; in a workbook, the sheet row
    domain: str  # as written
    external_id: str | None
    lead: dict[str, str] | None  # the lead as POST /jobs takes it; None when refused
    problem: str | None = None  # why it is refused, naming the line and the field
    columns: tuple[str, ...] = ()  # the file's own header names, in order (shared by its rows)
    values: tuple[str, ...] = ()  # this row's cells under `columns` ("" where the row is short)
    duplicate_of: int | None = None  # the line of the earlier row this one repeats: not to be sent
    address: str | None = None  # `enrich verify`: the address as written (its lead holds it checked)

    @property
    def sendable(self) -> bool:
        """A valid lead that no earlier row already carries: what becomes an item."""
        return self.lead is not None and self.duplicate_of is None

    @property
    def cells(self) -> dict[str, str]:
        """The row's cells by header name (the first column of a repeated name)."""
        cells: dict[str, str] = {}
        for name, value in zip(self.columns, self.values, strict=False):
            cells.setdefault(name, value)
        return cells


@dataclass(frozen=True)
class LeadFile:
    path: Path
    rows: list[CsvRow]
    columns: tuple[str, ...]  # the header as written
    mapping: dict[str, str]  # field -> the header name its values come from
    kind: Literal["csv", "xlsx"]
    encoding: str | None = None  # csv: e.g. "UTF-8 with BOM", "cp1252"
    delimiter: str | None = None  # csv
    sheet: str | None = None  # xlsx: the sheet read
    notes: tuple[str, ...] = ()  # columns left unused, cells beyond the header

    @property
    def duplicates(self) -> list[CsvRow]:
        return [row for row in self.rows if row.duplicate_of is not None]

    def describe(self) -> list[str]:
        """What was read and how, for the command line to print before sending anything."""
        if self.kind == "xlsx":
            how = f"sheet {self.sheet!r}"
        else:
            separator = {"\t": "tab"}.get(self.delimiter or ",", repr(self.delimiter))
            how = f"{self.encoding}, {separator}-separated"
        fields = ", ".join(f"{field} <- {header!r}" for field, header in self.mapping.items())
        lines = [f"{self.path}: {len(self.rows)} rows ({how}); columns: {fields}", *self.notes]
        duplicates = self.duplicates
        lines += [
            f"{self.path} line {row.line}: duplicate of line {row.duplicate_of}: enriched once"
            for row in duplicates[:MAX_LISTED_DUPLICATES]
        ]
        if len(duplicates) > MAX_LISTED_DUPLICATES:
            lines.append(f"... and {len(duplicates) - MAX_LISTED_DUPLICATES} more duplicate rows")
        return lines


def repeats_by_line(rows: Iterable[CsvRow]) -> dict[int, list[CsvRow]]:
    """The duplicates of each first occurrence, by the first occurrence's line: whose records to write
    (`results.duplicate_record`) when that line's result arrives."""
    repeats: dict[int, list[CsvRow]] = {}
    for row in rows:
        if row.duplicate_of is not None:
            repeats.setdefault(row.duplicate_of, []).append(row)
    return repeats


def read_rows(
    path: Path, column_map: Mapping[str, str] | None = None, encoding: str | None = None
) -> list[CsvRow]:
    return read_leads(path, column_map, encoding).rows


def read_leads(
    path: Path, column_map: Mapping[str, str] | None = None, encoding: str | None = None
) -> LeadFile:
    """Every non-blank row of the file at `path`; raises CsvError when the file cannot be used at all.
    `column_map` (field -> header, from `parse_column_map`) takes precedence over the aliases."""
    table = read_table(path, encoding)
    columns, notes = _resolve_columns(path, table.headers, column_map or {})
    rows, extra = _rows(table, columns)
    if extra:
        notes.append(
            f"{path}: {len(extra)} rows have more cells than the header's {len(table.headers)} columns "
            f"(first: line {extra[0]}): the extra cells are not read"
        )
    mapping = {field: table.headers[index] for field, index in columns.items()}
    return LeadFile(
        path,
        rows,
        table.headers,
        mapping,
        table.kind,
        table.encoding,
        table.delimiter,
        table.sheet,
        tuple(notes),
    )


# --- columns -----------------------------------------------------------------------------------------------


def parse_column_map(text: str) -> dict[str, str]:
    """`domain=Website,first_name="First Name"` -> {"domain": "Website", "first_name": "First Name"}.
    Fields by their names (any case, `-` or space for `_`); a column with a comma in it goes in quotes."""
    found: dict[str, str] = {}
    for item in _split_unquoted(text):
        if not item.strip():
            continue
        name, equals, column = item.partition("=")
        field = field_named(name)
        if field is None:
            raise ColumnMapError(f"--map: unknown field {name.strip()!r} (fields: {', '.join(FIELDS)})")
        column = _unquote(column.strip())
        if not equals or not column:
            raise ColumnMapError(f"--map: {field} needs a column: {field}=<column name>")
        if field in found:
            raise ColumnMapError(f"--map: {field} is mapped twice")
        found[field] = column
    if not found:
        raise ColumnMapError("--map: expected field=<column>[,field=<column>...], e.g. domain=Website")
    return found


def _split_unquoted(text: str) -> list[str]:
    """Split at commas, except inside a quote that opens a name or a column ("Owner's" opens none)."""
    items, current, quote = [], "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'" and (not current.strip() or current.rstrip().endswith("=")):
            quote = char
        elif char == ",":
            items.append(current)
            current = ""
            continue
        current += char
    return [*items, current]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def _resolve_columns(
    path: Path, headers: tuple[str, ...], column_map: Mapping[str, str]
) -> tuple[dict[str, int], list[str]]:
    """field -> column index (`leadenrich.uploads.columns`), and notes on columns left unused; its errors
    worded for the command line."""
    try:
        resolved = resolve_columns(headers, column_map)
    except UnknownField as exc:
        raise ColumnMapError(f"--map: {exc}") from None
    except MissingColumn as exc:
        raise ColumnMapError(f"{path}: --map {exc}") from None
    except NoLeadColumn as exc:
        raise CsvError(f"{path}: {exc}; or name yours with --map domain=<column>") from None
    notes = [
        f"{path}: column {headers[u.index]!r} not used: {u.field} comes from {headers[u.used]!r} "
        f"(--map {u.field}={headers[u.index]} to use it instead)"
        for u in resolved.unused
    ]
    return resolved.columns, notes


# --- rows --------------------------------------------------------------------------------------------------


def _rows(table: Table, columns: Mapping[str, int]) -> tuple[list[CsvRow], list[int]]:
    """The rows, and the lines of those with more cells than the header has columns."""
    width = len(table.headers)
    rows: list[CsvRow] = []
    extra: list[int] = []
    first_seen: dict[tuple[str, ...], int] = {}
    for line, cells in table.records:
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            extra.append(line)
        values = tuple(cells[:width]) + ("",) * (width - len(cells))
        raw = {field: values[index] for field, index in columns.items()}
        row = _row(line, raw, table.headers, values, columns)
        if row.lead is not None:
            identity = _identity(row.lead)
            if identity in first_seen:
                row = CsvRow(
                    line,
                    row.domain,
                    row.external_id,
                    row.lead,
                    None,
                    table.headers,
                    values,
                    first_seen[identity],
                )
            else:
                first_seen[identity] = line
        rows.append(row)
    return rows, extra


def _row(
    line: int,
    raw: dict[str, str],
    headers: tuple[str, ...],
    values: tuple[str, ...],
    columns: Mapping[str, int],
) -> CsvRow:
    domain = raw.get("domain", "")
    external_id = raw.get("external_id", "").strip() or None
    try:
        lead = JobLead.model_validate(raw)
    except ValidationError as exc:
        field, message = lead_problem(exc)
        header = headers[columns[field]] if field in columns else field
        where = f" (column {header!r})" if header != field else ""
        problem = f"line {line}: field '{field}': {message}{where}"
        return CsvRow(line, domain, external_id, None, problem, headers, values)
    # Only what the row gives: no empty domain for a name-only row (the API's item leaves it out too).
    return CsvRow(line, domain, external_id, lead.model_dump(exclude_defaults=True), None, headers, values)


def _identity(lead: Mapping[str, str]) -> tuple[str, ...]:
    """What makes two leads the same: the normalised domain, and the other fields case-insensitively."""
    try:
        domain = normalize_domain(lead.get("domain", ""))
    except DomainError:
        domain = lead.get("domain", "").casefold()
    others = (" ".join(str(lead.get(f) or "").split()).casefold() for f in FIELDS[1:])
    return (domain, *others)
