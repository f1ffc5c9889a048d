"""The SQLite cache on a real file, beyond the contract in `tests/adapters/dynamo/test_dynamo_cache.py`:
entries outlive the process's `Database`, an unreadable row is a miss, expired rows can be purged, and
threads writing one key leave one whole value."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from leadenrich.engine.cache import CachePort
from leadenrich.sqlite.cache import SqliteCache
from leadenrich.sqlite.db import Database
from tests.adapters.dynamo.test_dynamo_cache import T0, Clock


def conforms(cache: SqliteCache) -> CachePort:
    """mypy checks the adapter against the port here."""
    return cache


async def test_entries_outlive_the_database_object_and_keep_their_expiry(path: Path) -> None:
    clock = Clock()
    before = Database(path)
    await SqliteCache(before, clock=clock).put("v1:px:acme.com", {"people": ["Ada"]}, 3600)
    before.close()

    after = Database(path)
    try:
        cache = SqliteCache(after, clock=clock)
        assert await cache.get("v1:px:acme.com") == {"people": ["Ada"]}
        clock.now = T0 + 3600  # wall-clock expiry: a restart does not renew it
        assert await cache.get("v1:px:acme.com") is None
    finally:
        after.close()


async def test_unreadable_row_is_a_miss(db: Database) -> None:
    cache = SqliteCache(db, clock=Clock())
    with db.write() as conn:
        conn.executemany(
            "INSERT INTO cache (key, payload, expires_at) VALUES (?, ?, ?)",
            [("bad", "{not json", T0 + 60), ("list", "[1, 2]", T0 + 60)],
        )

    assert await cache.get("bad") is None
    assert await cache.get("list") is None


async def test_purging_deletes_only_expired_rows(db: Database) -> None:
    clock = Clock()
    cache = SqliteCache(db, clock=clock)
    await cache.put("short", {"n": 1}, 10)
    await cache.put("long", {"n": 2}, 100)
    clock.now = T0 + 10

    assert cache.purge_expired() == 1
    assert cache.purge_expired() == 0
    assert await cache.get("long") == {"n": 2}
    assert db.read().execute("SELECT key FROM cache").fetchall()[0]["key"] == "long"


def test_threads_writing_one_key_leave_one_whole_value(db: Database) -> None:
    cache = SqliteCache(db, clock=Clock())
    threads = 8
    start = threading.Barrier(threads, timeout=30)

    def write(index: int) -> None:
        start.wait()
        for round_ in range(20):
            asyncio.run(cache.put("k", {"writer": index, "round": round_, "pad": "x" * 1000}, 60))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(threads)))

    value = asyncio.run(cache.get("k"))
    assert value is not None and value["round"] == 19 and value["writer"] in range(threads)
