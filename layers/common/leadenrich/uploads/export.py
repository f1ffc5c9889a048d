"""A job's results as one CSV file (`POST /jobs/{job_id}/exports`): a row per item, flattened from the items'
API view, so the file says exactly what `GET /jobs/{job_id}/items` says (suppressed addresses withheld,
addresses pending review held back) and nothing more.

Columns: the item, its outcome, the lead as given, then its best address (the primary, else the first, as
the `enrich` command's results CSV picks it) with the names that CSV uses (`email`, `confidence_score`,
`deliverability`, `hunter_status`, `email_status`, `source`...), the others `; `-joined. Like that CSV, the
file starts with a UTF-8 byte-order mark (Excel reads accents right) and a cell that a spreadsheet would
run as a formula gets a leading `'` (CSV injection); plain numbers are left alone.

The rows are rendered a page of items at a time (`csv_rows`); `export_writer` puts the pages into the file's
parts across as many requests as the job's size needs.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the views only shape the rows; the adapters import `attachment` without them
    from leadenrich.jobs.views import EmailView, ItemView

CSV_COLUMNS = (
    "item_id",
    "status",
    "reason",
    "external_id",
    "domain",
    "company_name",
    "first_name",
    "last_name",
    "lead_email",  # a verification job's address as given
    "lead_id",
    "email",
    "person",
    "position",
    "confidence_score",
    "deliverability",
    "hunter_status",
    "email_status",
    "source",
    "method",
    "verified_at",
    "contact",
    "other_emails",
    "withheld",
    "held_for_review",
)
PAGE_SIZE = 1000  # items read at a time (the items route's largest page)
CONTENT_TYPE = "text/csv"
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

# A page of the job's items as the API shows them, from a cursor (None: the first); the next cursor.
ItemPages = Callable[[str | None], Awaitable[tuple[Sequence["ItemView"], str | None]]]


EXPORT_ID_PATTERN = r"^exp_[0-9a-f]{32}$"


def new_export_id() -> str:
    return f"exp_{secrets.token_hex(16)}"


def export_key(workspace_id: str, job_id: str, export_id: str) -> str:
    """`exports/<workspace>/<job_id>/<export_id>.csv`: under the workspace, never guessed, never overwritten
    by another export."""
    return f"exports/{workspace_id}/{job_id}/{export_id}.csv"


def export_state_key(workspace_id: str, job_id: str, export_id: str) -> str:
    """The export's progress beside its file (`export_writer.ExportProgress`)."""
    return f"exports/{workspace_id}/{job_id}/{export_id}.json"


def attachment(filename: str) -> str:
    """A `Content-Disposition` that saves the download as `filename`, reduced to letters, digits, `.`, `_`
    and `-` (no quote or line break can reach the header)."""
    safe = _UNSAFE_NAME.sub("_", filename).strip("._") or "export.csv"
    return f'attachment; filename="{safe[:200]}"'


def excel_safe(text: str) -> str:
    """The cell as a spreadsheet shows it as text: formula-like starts get a leading `'`."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _best(emails: Sequence[EmailView]) -> EmailView | None:
    return next((e for e in emails if e.email_type == "primary"), emails[0] if emails else None)


def item_cells(item: ItemView) -> list[str]:
    """One row of `CSV_COLUMNS` for an item (Excel-safe)."""
    lead = item.lead
    best = _best(item.emails)
    others = "; ".join(e.email for e in item.emails if e is not best)
    address: list[Any] = (
        [
            best.email,
            best.person,
            best.position,
            best.confidence_score,
            best.deliverability,
            best.hunter_status,
            best.status,
            best.source,
            best.method,
            best.verified_at.isoformat() if best.verified_at else None,
            best.contact,
        ]
        if best is not None
        else [None] * 11
    )
    values = [
        item.item_id,
        item.status,
        item.reason,
        lead.external_id,
        lead.domain,
        lead.company_name,
        lead.first_name,
        lead.last_name,
        lead.email,
        item.lead_id,
        *address,
        others,
        item.withheld,
        item.held_for_review,
    ]
    return [excel_safe(_text(value)) for value in values]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))  # an enum's value, not its name


def csv_rows(items: Sequence[ItemView], *, header: bool) -> bytes:
    """A page of items as CSV rows (CRLF-ended), UTF-8; with `header`, the file's start (the byte-order
    mark and the column names) first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        buffer.write(BOM)
        writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(item_cells(item))
    return buffer.getvalue().encode("utf-8")


__all__ = [
    "CONTENT_TYPE",
    "CSV_COLUMNS",
    "EXPORT_ID_PATTERN",
    "PAGE_SIZE",
    "ItemPages",
    "attachment",
    "csv_rows",
    "excel_safe",
    "export_key",
    "export_state_key",
    "item_cells",
    "new_export_id",
]
