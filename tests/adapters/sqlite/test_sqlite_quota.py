"""The SQLite lead quota on a real file, beyond the contract in `tests/auth/test_quota.py`: counters outlive
the process's `Database`, reservations racing in threads (the local gateway's) never pass the limit, and
old days' rows go as new days are reserved."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from leadenrich.auth.quota import LeadQuota
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.quota import KEEP_DAYS, SqliteLeadQuota

DAY = date(2026, 11, 22)


def conforms(quota: SqliteLeadQuota) -> LeadQuota:
    """mypy checks the adapter against the port here."""
    return quota


async def test_counters_outlive_the_database_object(path: Path) -> None:
    before = Database(path)
    assert await SqliteLeadQuota(before).reserve("acme", DAY, 4, 5)
    before.close()

    after = Database(path)
    try:
        quota = SqliteLeadQuota(after)
        assert await quota.used("acme", DAY) == 4
        assert not await quota.reserve("acme", DAY, 2, 5)
        assert await quota.reserve("acme", DAY, 1, 5)
    finally:
        after.close()


def test_reservations_racing_in_threads_never_pass_the_limit(path: Path) -> None:
    databases = [Database(path), Database(path)]  # the gateway's threads and the command line
    quotas = [SqliteLeadQuota(db) for db in databases]  # made first, as the local stack does at start
    threads = 16
    start = threading.Barrier(threads, timeout=30)

    def reserve(index: int) -> bool:
        start.wait()  # each thread opens a connection of its own from here
        return asyncio.run(quotas[index % 2].reserve("acme", DAY, 3, 10))

    try:
        with ThreadPoolExecutor(threads) as pool:
            taken = list(pool.map(reserve, range(threads)))
        used = asyncio.run(quotas[0].used("acme", DAY))
    finally:
        for db in databases:
            db.close()
    assert taken.count(True) == 3 and used == 9


async def test_old_days_are_dropped_by_a_new_days_reservation(db: Database) -> None:
    quota = SqliteLeadQuota(db)
    for age in range(KEEP_DAYS + 2):
        assert await quota.reserve("acme", DAY - timedelta(days=age), 1, 5)

    assert await quota.reserve("globex", DAY, 1, 5)

    kept = [await quota.used("acme", DAY - timedelta(days=age)) for age in range(KEEP_DAYS + 2)]
    assert kept == [1] * KEEP_DAYS + [0, 0]  # today's and yesterday's, as DynamoDB's TTL keeps them
    rows = db.read().execute("SELECT COUNT(*) AS n FROM lead_quota").fetchone()["n"]
    assert rows == KEEP_DAYS + 1  # acme's kept days and globex's


async def test_a_release_gives_back_what_was_reserved(db: Database) -> None:
    quota = SqliteLeadQuota(db)
    assert await quota.reserve("acme", DAY, 5, 5)
    await quota.release("acme", DAY, 3)
    assert await quota.used("acme", DAY) == 2
    assert await quota.reserve("acme", DAY, 3, 5)
    await quota.release("globex", DAY, 2)  # nothing reserved there: nothing changes
    assert await quota.used("globex", DAY) == 0
