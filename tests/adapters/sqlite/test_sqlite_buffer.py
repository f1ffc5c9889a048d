"""The SQLite lead buffer, held to the shared contract (tests/support/buffer_contract.py), then what is its
own: two processes' connections to one file still never take one lead twice."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from leadenrich.buffer.ports import LeadBuffer
from leadenrich.sqlite.buffer import SqliteLeadBuffer
from leadenrich.sqlite.db import Database
from tests.support.buffer_contract import NS, WS, LeadBufferContract, claim, records


def conforms(buffer: SqliteLeadBuffer) -> LeadBuffer:
    """mypy checks the adapter against the port here."""
    return buffer


class TestSqliteLeadBuffer(LeadBufferContract):
    @pytest.fixture
    def buffer(self, database: Database) -> SqliteLeadBuffer:
        return SqliteLeadBuffer(database)


def test_claims_from_threads_on_separate_connections_never_share_a_lead(tmp_path: Path) -> None:
    """Given one file opened by several threads (the local gateway's request threads), when they claim at
    once, then each lead goes to one of them."""
    path = tmp_path / "state.sqlite3"
    asyncio.run(SqliteLeadBuffer(Database(path)).push(WS, NS, records(*(f"c{n}.com" for n in range(20)))))
    taken: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        buffer = SqliteLeadBuffer(Database(path))  # a process's own handle on the file
        for attempt in range(5):
            record = asyncio.run(claim(buffer, token=f"t{n}.{attempt}"))
            if record is not None:
                with lock:
                    taken.append(record.lead_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 20 and len(set(taken)) == 20
