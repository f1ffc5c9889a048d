"""Reading a file of addresses to verify (`enrich verify`, `enrich jobs create --emails-csv`): every row
kept, each sendable, refused (with why) or a duplicate, like a leads file (`rows`).

The file is what `sheets` reads (CSV/TSV in any common encoding, or .xlsx). The addresses are in the
column named by `--column`, else the first whose header is a common name for one ("Email", "E-mail",
"Email Address", "Work Email"...; case, spaces and punctuation ignored); a file of one column whose first
line is itself an address has no header at all. Each address is checked as the API checks `emails`
(`Lead.of_address`), so a row the API would refuse, and with it the whole job, is reported instead of
sent. Rows are `CsvRow`s whose lead is `{"domain", "email"}`, what a verification item's lead reads back
as, so the results are matched to their rows as a run's are.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pydantic import ValidationError

from enrich_tools.local.rows import CsvError, CsvRow, LeadFile, header_key
from enrich_tools.local.sheets import Table, read_table
from leadenrich.engine.models import Lead

FIELD = "email"
# Header names the addresses are found under, in priority order (compared by `header_key`).
EMAIL_ALIASES = (
    "email",
    "email address",
    "e-mail",
    "e-mail address",
    "work email",
    "business email",
    "contact email",
    "primary email",
    "mail",
)
_RANK = {header_key(alias): rank for rank, alias in enumerate(EMAIL_ALIASES)}


def read_addresses(path: Path, column: str | None = None, encoding: str | None = None) -> LeadFile:
    """Every non-blank row of the file; raises CsvError when it cannot be used at all (no address column,
    an unreadable file)."""
    table = read_table(path, encoding)
    headerless = _headerless(table) if column is None else False
    index, notes = (0, []) if headerless else _column(path, table.headers, column)
    records = [(table.header_line, table.headers), *table.records] if headerless else table.records
    columns = (FIELD,) if headerless else table.headers
    if headerless:
        notes.append(f"{path}: no header (its first line is an address): every line is an address")
    rows: list[CsvRow] = []
    first_seen: dict[str, int] = {}
    for line, cells in records:
        values = tuple(cells[: len(columns)]) + ("",) * (len(columns) - len(cells))
        row = _row(line, values[index], columns, values, columns[index])
        if row.lead is not None:
            email = row.lead[FIELD]
            if email in first_seen:
                row = replace(row, duplicate_of=first_seen[email])
            else:
                first_seen[email] = line
        rows.append(row)
    return LeadFile(
        path,
        rows,
        columns,
        {FIELD: columns[index]},
        table.kind,
        table.encoding,
        table.delimiter,
        table.sheet,
        tuple(notes),
    )


def _headerless(table: Table) -> bool:
    """One column whose header is an address: a plain list of addresses, with no header line."""
    if len(table.headers) != 1 or "@" not in table.headers[0]:
        return False
    try:
        Lead.of_address(table.headers[0])
    except ValidationError:
        return False
    return True


def _column(path: Path, headers: tuple[str, ...], wanted: str | None) -> tuple[int, list[str]]:
    """The addresses' column: `wanted` (as written, else as compared), else the best-ranked alias."""
    if wanted is not None:
        exact = [i for i, h in enumerate(headers) if h == wanted]
        loose = [i for i, h in enumerate(headers) if header_key(h) == header_key(wanted)]
        if not exact + loose:
            raise CsvError(f"{path}: --column {wanted!r}: no such column (found: {_listing(headers)})")
        return (exact + loose)[0], []
    matches = sorted((_RANK[key], i) for i, h in enumerate(headers) if (key := header_key(h)) in _RANK)
    if not matches:
        accepted = ", ".join(repr(a) for a in EMAIL_ALIASES)
        raise CsvError(
            f"{path}: no column of addresses (found: {_listing(headers)}; accepted: {accepted}, in any "
            "case or spacing); or name yours with --column <name>"
        )
    chosen = matches[0][1]
    notes = [
        f"{path}: column {headers[i]!r} not used: the addresses come from {headers[chosen]!r} "
        f"(--column {headers[i]!r} to use it instead)"
        for _, i in matches[1:]
    ]
    return chosen, notes


def _row(line: int, raw: str, columns: tuple[str, ...], values: tuple[str, ...], header: str) -> CsvRow:
    """A row's address checked as the API checks it; the problem names the line and the column, never the
    address (it may be someone's real one, and the message goes to a terminal log)."""
    domain = raw.strip().rpartition("@")[2]
    try:
        lead = Lead.of_address(raw)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        where = f" (column {header!r})" if header != FIELD else ""
        if not raw.strip():
            message = "empty"
        problem = f"line {line}: field 'email': {message}{where}"
        return CsvRow(line, domain, None, None, problem, columns, values, address=raw.strip())
    checked = lead.model_dump(exclude_none=True)
    return CsvRow(line, lead.domain, None, checked, None, columns, values, address=raw.strip())


def _listing(headers: tuple[str, ...]) -> str:
    return ", ".join(repr(h) for h in headers if h) or "none"
