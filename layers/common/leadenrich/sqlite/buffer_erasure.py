"""The erasure's eraser for the lead buffer in the embedded SQLite file (`leadenrich.privacy.erasure`; the
rules are `buffer.erasure`): the workspace's lead records (`buffer_leads`) and cursor states
(`buffer_cursors`), every namespace.

SQL narrows the rows to those holding one of the subject's patterns (`Subject.patterns`: every lead holds
its domain); the rules decide on each. The erase is one write transaction (`BEGIN IMMEDIATE`), so no claim
or serve writes a lead between its read and its rewrite. The served registry (`buffer_served`) is left as it
is: it holds the lead's keyed identity only. A file without the buffer's tables holds nothing to erase.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from leadenrich.buffer.erasure import PLACE, BufferRow, cursor_named, lead_links, scrub_lead
from leadenrich.privacy.erasure import PlaceErased
from leadenrich.privacy.erasure_rules import Subject
from leadenrich.sqlite.db import Database

_LEAD_TEXT = (
    "lead || ' ' || coalesce(data, '') || ' ' || coalesce(result, '') || ' '"
    " || coalesce(enrichment_error, '')"
)


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _row(row: sqlite3.Row) -> BufferRow:
    lead, data, result = _json(row["lead"]), _json(row["data"]), _json(row["result"])
    return BufferRow(
        lead=lead if isinstance(lead, dict) else {},
        data=data if isinstance(data, dict) else None,
        result=result if isinstance(result, dict) else None,
        error=row["enrichment_error"],
    )


class SqliteBufferErasure:
    """See the module docstring."""

    places = (PLACE,)

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _holding(
        conn: sqlite3.Connection, table: str, columns: str, text: str, workspace_id: str, subject: Subject
    ) -> list[sqlite3.Row]:
        present = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        patterns = subject.patterns()
        if present.fetchone() is None or not patterns:
            return []
        clause = " OR ".join(f"instr(lower({text}), ?) > 0" for _ in patterns)
        query = f"SELECT {columns} FROM {table} WHERE workspace_id = ? AND ({clause})"  # noqa: S608 - ours
        return conn.execute(query, (workspace_id, *patterns)).fetchall()

    def _leads(self, conn: sqlite3.Connection, workspace_id: str, subject: Subject) -> list[sqlite3.Row]:
        columns = "lead_id, lead, data, result, enrichment_error"
        return self._holding(conn, "buffer_leads", columns, _LEAD_TEXT, workspace_id, subject)

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        links = Subject()
        for row in self._leads(self._db.read(), workspace_id, subject):
            links = links | lead_links(_row(row), subject)
        return links

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        removed = changed = 0
        with self._db.write() as conn:
            for row in self._leads(conn, workspace_id, subject):
                change = scrub_lead(_row(row), subject)
                if change is None:
                    continue
                if change.delete:
                    conn.execute(
                        "DELETE FROM buffer_leads WHERE workspace_id = ? AND lead_id = ?",
                        (workspace_id, row["lead_id"]),
                    )
                    removed += 1
                    continue
                conn.execute(
                    "UPDATE buffer_leads SET data = ?, result = ?, enrichment_error = ?"
                    " WHERE workspace_id = ? AND lead_id = ?",
                    (_text(change.data), _text(change.result), change.error, workspace_id, row["lead_id"]),
                )
                changed += 1
            cursors = self._holding(
                conn, "buffer_cursors", "namespace, state", "state", workspace_id, subject
            )
            for row in cursors:
                if cursor_named(_json(row["state"]), subject):
                    conn.execute(
                        "DELETE FROM buffer_cursors WHERE workspace_id = ? AND namespace = ?",
                        (workspace_id, row["namespace"]),
                    )
                    removed += 1
        return [PlaceErased(PLACE, removed=removed, changed=changed)]


__all__ = ["SqliteBufferErasure"]
