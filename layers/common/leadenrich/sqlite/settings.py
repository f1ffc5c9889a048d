"""`WorkspaceSettingsStore` in the embedded SQLite file: one row per workspace that set anything, the
settings as JSON text (`privacy.settings.settings_row`), read back leniently (`settings_from_row`: a field
added later takes its default), as the DynamoDB adapter keeps them. A workspace without a row has the
defaults. `all` lists every row for the retention purge (`jobs.retention`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from leadenrich.jobs.encoding import ts
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.privacy.settings import settings_from_row, settings_row
from leadenrich.sqlite.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace_settings (
    workspace_id TEXT PRIMARY KEY,
    settings     TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
"""


def _parse(text: str) -> WorkspaceSettings:
    loaded = json.loads(text)
    return settings_from_row(loaded if isinstance(loaded, dict) else {})


class SqliteWorkspaceSettings:
    """The SQLite adapter of `WorkspaceSettingsStore` and `WorkspaceSettingsDirectory`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema("workspace_settings", _SCHEMA)

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        row = (
            self._db.read()
            .execute("SELECT settings FROM workspace_settings WHERE workspace_id = ?", (workspace_id,))
            .fetchone()
        )
        return _parse(row["settings"]) if row else WorkspaceSettings()

    async def put(self, workspace_id: str, settings: WorkspaceSettings) -> None:
        text = json.dumps(settings_row(settings), separators=(",", ":"))
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO workspace_settings (workspace_id, settings, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings,"
                " updated_at = excluded.updated_at",
                (workspace_id, text, ts(datetime.now(UTC))),
            )

    async def all(self) -> dict[str, WorkspaceSettings]:
        rows = self._db.read().execute("SELECT workspace_id, settings FROM workspace_settings").fetchall()
        return {row["workspace_id"]: _parse(row["settings"]) for row in rows}


__all__ = ["SqliteWorkspaceSettings"]
