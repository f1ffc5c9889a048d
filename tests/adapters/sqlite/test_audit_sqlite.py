"""The SQLite audit log on a real file, beyond the contract (`test_audit_contract.py`): an append purges the
entries whose time has come, the file itself refuses to change or delete an entry before then, and the
trail outlives the process's `Database`."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from leadenrich.privacy.audit import AuditRetention
from leadenrich.privacy.ports import AuditQuery
from leadenrich.sqlite.audit import SqliteAuditLog
from leadenrich.sqlite.db import Database
from tests.adapters.sqlite.test_audit_contract import Settings, entry

DAY = 24 * 60  # minutes


def stored_targets(db: Database) -> list[str]:
    return [row["target"] for row in db.read().execute("SELECT target FROM audit ORDER BY at")]


async def test_an_append_purges_the_expired_entries(db: Database) -> None:
    audit = SqliteAuditLog(db, retention=AuditRetention(Settings(days=30)))
    await audit.append(entry(minutes_ago=31 * DAY, target="expired"))
    await audit.append(entry(minutes_ago=29 * DAY, target="kept"))
    assert stored_targets(db) == ["kept"]  # the second append removed the first: its 30 days had passed


async def test_the_file_refuses_to_change_or_delete_an_entry(db: Database) -> None:
    audit = SqliteAuditLog(db)
    await audit.append(entry(target="job_1"))
    conn = db.connection()
    with pytest.raises(sqlite3.IntegrityError, match="append only"):
        conn.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="kept until they expire"):
        conn.execute("DELETE FROM audit")
    assert stored_targets(db) == ["job_1"]
    assert [e.actor for e in (await audit.query(AuditQuery("acme"))).items] == ["key_0123456789abcdef"]


async def test_the_trail_outlives_the_database_object(path: Path) -> None:
    before = Database(path)
    written = await SqliteAuditLog(before).append(entry(target="job_1"))
    before.close()
    after = Database(path)
    try:
        assert (await SqliteAuditLog(after).query(AuditQuery("acme"))).items == [written]
    finally:
        after.close()


async def test_an_entry_s_end_is_its_time_plus_the_retention(db: Database) -> None:
    written = await SqliteAuditLog(db, retention=AuditRetention(Settings(days=10))).append(entry())
    row = db.read().execute("SELECT expires_at FROM audit").fetchone()
    assert row["expires_at"] == int((written.at + timedelta(days=10)).timestamp())
