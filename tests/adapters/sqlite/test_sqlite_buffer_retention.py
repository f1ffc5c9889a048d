"""The lead buffer's retention purge on a real SQLite file (tests/support/buffer_retention.py)."""

from __future__ import annotations

from leadenrich.jobs.retention import RetentionPolicy
from leadenrich.sqlite.buffer import SqliteLeadBuffer
from leadenrich.sqlite.buffer_retention import SqliteBufferPurge
from leadenrich.sqlite.db import Database
from tests.support.buffer_contract import NOW
from tests.support.buffer_retention import check_buffer_retention


async def test_leads_expire_by_their_workspaces_periods_and_the_registry_by_its_own(db: Database) -> None:
    await check_buffer_retention(SqliteLeadBuffer(db), SqliteBufferPurge(db))


async def test_a_file_without_the_buffer_is_skipped(db: Database) -> None:
    assert (await SqliteBufferPurge(db).purge(NOW, RetentionPolicy(), batch=10)).deleted == {}
