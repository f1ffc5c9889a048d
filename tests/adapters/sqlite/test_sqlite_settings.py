"""The workspace settings in the embedded SQLite file: defaults until set, replaced whole, listed, shared by
every connection to the file (the local stack's API, processor and command line), read leniently."""

from __future__ import annotations

from leadenrich.privacy.ports import WorkspaceSettings, WorkspaceSettingsStore
from leadenrich.privacy.settings import WorkspaceSettingsDirectory
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.settings import SqliteWorkspaceSettings

STRICT = WorkspaceSettings(
    unverified_retention_days=7,
    results_retention_days=14,
    cache_retention_days=3,
    review_required=True,
    refused_countries=("DE",),
    flagged_countries=("GB", "IE"),
    default_lawful_basis="contract",
)


def conforms(store: SqliteWorkspaceSettings) -> tuple[WorkspaceSettingsStore, WorkspaceSettingsDirectory]:
    """mypy checks the adapter against the port and the directory here."""
    return store, store


async def test_defaults_until_set_then_replaced_whole(db: Database) -> None:
    store = SqliteWorkspaceSettings(db)
    assert await store.get("acme") == WorkspaceSettings()
    await store.put("acme", STRICT)
    assert await store.get("acme") == STRICT
    assert await store.get("globex") == WorkspaceSettings()
    await store.put("acme", WorkspaceSettings(cache_retention_days=1))
    assert await store.get("acme") == WorkspaceSettings(cache_retention_days=1)


async def test_another_process_on_the_file_reads_them_and_all_lists_them(db: Database, path: object) -> None:
    await SqliteWorkspaceSettings(db).put("acme", STRICT)
    await SqliteWorkspaceSettings(db).put("globex", WorkspaceSettings(results_retention_days=200))
    other = Database(db.path)  # another process's connection to the same file
    try:
        listed = await SqliteWorkspaceSettings(other).all()
    finally:
        other.close()
    assert listed == {"acme": STRICT, "globex": WorkspaceSettings(results_retention_days=200)}


async def test_rows_of_other_versions_are_read_leniently(db: Database) -> None:
    store = SqliteWorkspaceSettings(db)
    with db.write() as conn:
        conn.execute(
            "INSERT INTO workspace_settings VALUES ('old', ?, '2026-01-01T00:00:00.000000+00:00')",
            ('{"review_required": true, "later_field": [1, 2]}',),
        )
    assert await store.get("old") == WorkspaceSettings(review_required=True)
