"""What a job made from an uploaded CSV keeps about it, in `JobOptions.upload` (one JSON column or attribute
in every store), so any processor can go on reading the file where the last one stopped.

The file is read in records, each a byte range: `offset` is where the next unread record starts, so a
reader resumes with a ranged GET instead of reading the file again. `rows` counts the items made so far;
they are the job's items `000000` ... in file order, so the same page read twice makes the same items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MAX_ROW_ERRORS = 100  # refused rows kept with their line and reason; `refused` counts them all
UPLOAD_ID_PATTERN = r"^upl_[0-9a-f]{32}$"


def upload_key(workspace_id: str, upload_id: str) -> str:
    """Where an upload's object is stored: the workspace's own prefix, a name the service chose."""
    return f"uploads/{workspace_id}/{upload_id}.csv"


LoadState = Literal["loading", "loaded", "failed"]


@dataclass(frozen=True)
class RowError:
    """A data row that made no item: its line in the file (1 is the header), the field and why."""

    line: int
    field: str
    message: str

    def as_row(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RowError:
        return cls(int(row["line"]), str(row["field"]), str(row["message"]))


@dataclass(frozen=True)
class UploadState:
    upload_id: str
    key: str  # the object's key: uploads/<workspace_id>/<upload_id>.csv
    size: int  # bytes, as stored when the job was made
    state: LoadState = "loading"
    offset: int = 0  # bytes read: the next record starts here (0: the header is not read yet)
    line: int = 0  # the last line read (physical lines: a quoted cell may span several)
    rows: int = 0  # items made
    refused: int = 0  # data rows refused (each is in `errors` up to MAX_ROW_ERRORS)
    errors: tuple[RowError, ...] = ()
    # The header as read: the delimiter and each lead field's column index (field -> index).
    delimiter: str = ","
    columns: tuple[tuple[str, int], ...] = ()
    width: int = 0  # the header's column count
    names: tuple[tuple[str, str], ...] = ()  # field -> the header name its values come from (as read)
    # Asked at job creation (`POST /jobs` `columns`): lead field -> header name, before the aliases.
    column_map: tuple[tuple[str, str], ...] = ()
    failure: str | None = None  # why the file could not be read (state "failed"), naming the line
    loaded_at: str | None = None  # ISO-8601, when the last record was read
    # Why reading ended before the end of the file with the job run all the same (state "loaded"): the
    # workspace's daily lead quota ran out at this line (docs/uploads.md).
    stopped: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "key": self.key,
            "size": self.size,
            "state": self.state,
            "offset": self.offset,
            "line": self.line,
            "rows": self.rows,
            "refused": self.refused,
            "errors": [e.as_row() for e in self.errors],
            "delimiter": self.delimiter,
            "columns": [[name, index] for name, index in self.columns],
            "width": self.width,
            "names": [[name, header] for name, header in self.names],
            "column_map": [[name, header] for name, header in self.column_map],
            "failure": self.failure,
            "loaded_at": self.loaded_at,
            "stopped": self.stopped,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UploadState:
        return cls(
            upload_id=str(row["upload_id"]),
            key=str(row["key"]),
            size=int(row["size"]),
            state=row.get("state") or "loading",
            offset=int(row.get("offset") or 0),
            line=int(row.get("line") or 0),
            rows=int(row.get("rows") or 0),
            refused=int(row.get("refused") or 0),
            errors=tuple(RowError.from_row(e) for e in row.get("errors") or ()),
            delimiter=str(row.get("delimiter") or ","),
            columns=tuple((str(n), int(i)) for n, i in row.get("columns") or ()),
            width=int(row.get("width") or 0),
            names=tuple((str(n), str(h)) for n, h in row.get("names") or ()),
            column_map=tuple((str(n), str(h)) for n, h in row.get("column_map") or ()),
            failure=row.get("failure"),
            loaded_at=row.get("loaded_at"),
            stopped=row.get("stopped"),
        )
