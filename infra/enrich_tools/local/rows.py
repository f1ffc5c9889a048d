"""Reading a leads CSV for the jobs API: every row kept, each either sendable or refused with its reason.

Rows are checked with the API's own request model, so a row the API would refuse (and with it the whole
job, since one request carries every lead) is held back here and reported instead of sent.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from leadenrich.jobs.requests import JobLead

CSV_COLUMNS = ("domain", "company_name", "first_name", "last_name", "external_id")


class CsvError(ValueError):
    """The file cannot be used at all: unreadable, not UTF-8, malformed, or without a `domain` column."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # in the file, counting the header as line 1
    domain: str  # as written
    external_id: str | None
    lead: dict[str, str] | None  # the lead as sent to POST /jobs; None when the row is refused
    problem: str | None = None  # why it is refused, naming the field


def read_rows(path: Path) -> list[CsvRow]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            try:
                columns = reader.fieldnames or []
                if "domain" not in columns:
                    found = ", ".join(c for c in columns if c) or "none"
                    raise CsvError(
                        f"{path}: the header must have a 'domain' column (found: {found}; "
                        f"known columns: {', '.join(CSV_COLUMNS)})"
                    )
                return [_row(number, raw) for number, raw in enumerate(reader, start=2)]
            except csv.Error as exc:
                raise CsvError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    except UnicodeDecodeError:
        raise CsvError(f"{path}: not UTF-8 text (save the CSV as UTF-8)") from None
    except OSError as exc:
        raise CsvError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _row(line: int, raw: dict[str | None, str | None]) -> CsvRow:
    values = {name: (raw.get(name) or "") for name in CSV_COLUMNS if name in raw}
    domain = values.get("domain", "")
    external_id = values.get("external_id", "").strip() or None
    try:
        lead = JobLead.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        message = str(first["msg"]).removeprefix("Value error, ")
        return CsvRow(line, domain, external_id, None, f"line {line}: field '{field}': {message}")
    return CsvRow(line, domain, external_id, lead.model_dump(exclude_none=True))
