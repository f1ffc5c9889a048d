"""The SQLite rate limiter's sharing: two processors on one file keep one pace, real threads racing for
slots never get two closer than the interval, the pace survives a restart, and a caller waiting for its
slot holds no lock. The contract every limiter keeps is in `tests/adapters/dynamo/test_dynamo_limiter.py`.

Time is the fake clock of those tests: it moves only when a limiter sleeps, so a granted call's time is
exactly the slot it reserved.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from leadenrich.deadline import Deadline
from leadenrich.engine.ratelimit import Limit
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.limiter import SqliteRateLimiter
from tests.adapters.dynamo.test_dynamo_limiter import KEY, T0, FakeTime, most_in_any_window


def limiter(db: Database, limit: Limit, t: FakeTime) -> SqliteRateLimiter:
    return SqliteRateLimiter(db, {KEY: limit}, clock=t.clock, sleep=t.sleep)


async def test_two_processors_on_one_file_space_their_calls_together(tmp_path: Path) -> None:
    path = tmp_path / "leadenrich.sqlite3"
    first_db, second_db = Database(path), Database(path)  # two processes: connections of their own
    t = FakeTime(T0)
    limit = Limit(4, 240)
    first, second = limiter(first_db, limit, t), limiter(second_db, limit, t)
    granted: list[float] = []

    async def take(one: SqliteRateLimiter) -> None:
        for _ in range(10):
            assert await one.acquire(KEY, Deadline.after(3600))
            granted.append(t.now)

    try:
        await asyncio.gather(take(first), take(second))
    finally:
        first_db.close()
        second_db.close()
    assert len(granted) == 20
    assert most_in_any_window(granted, 1.0) <= 4
    assert max(granted) - min(granted) < 20 * limit.interval  # one shared pace, not two slow ones


def test_threads_racing_for_slots_never_get_two_closer_than_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "leadenrich.sqlite3"
    databases = [Database(path), Database(path)]  # the gateway's threads and a second processor
    limit = Limit(50, 3000)  # 20 ms apart
    threads, calls = 8, 15
    times = [FakeTime(T0) for _ in range(threads)]  # each thread's own clock: it moves as it sleeps
    limiters = [limiter(databases[index % 2], limit, t) for index, t in enumerate(times)]
    start = threading.Barrier(threads, timeout=30)

    def take(index: int) -> list[float]:
        t, one = times[index], limiters[index]
        start.wait()  # each thread opens a connection of its own from here

        async def run() -> list[float]:
            granted = []
            for _ in range(calls):
                assert await one.acquire(KEY, Deadline.after(3600))
                granted.append(t.now)
            return granted

        return asyncio.run(run())

    try:
        with ThreadPoolExecutor(threads) as pool:
            granted = sorted(g for each in pool.map(take, range(threads)) for g in each)
    finally:
        for db in databases:
            db.close()
    assert len(granted) == threads * calls
    gaps = [later - earlier for earlier, later in itertools.pairwise(granted)]
    assert min(gaps) >= limit.interval - 1e-6  # float seconds near 1.7e9 resolve to about 0.2 µs
    assert most_in_any_window(granted, 1.0) <= limit.per_second


async def test_the_pace_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "leadenrich.sqlite3"
    t = FakeTime(T0)
    before = Database(path)
    assert await limiter(before, Limit(1, 1), t).acquire(KEY, Deadline.after(10))
    before.close()

    after = Database(path)
    try:
        restarted = limiter(after, Limit(1, 1), t)
        assert not await restarted.acquire(KEY, Deadline.after(30))  # the next slot is a minute away
        assert await restarted.acquire(KEY, Deadline.after(90))
        assert t.now == T0 + 60
    finally:
        after.close()


async def test_a_caller_waiting_for_its_slot_holds_no_lock(tmp_path: Path) -> None:
    path = tmp_path / "leadenrich.sqlite3"
    db = Database(path)
    t = FakeTime(T0)
    writable_while_waiting: list[bool] = []

    async def sleep(seconds: float) -> None:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)  # another process, no patience
        try:
            other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the wait held the lock
            other.execute("ROLLBACK")
            writable_while_waiting.append(True)
        finally:
            other.close()
        await t.sleep(seconds)

    one = SqliteRateLimiter(db, {KEY: Limit(1, 60)}, clock=t.clock, sleep=sleep)
    try:
        assert await one.acquire(KEY, Deadline.after(10))
        assert await one.acquire(KEY, Deadline.after(10))  # waits a second for its slot
    finally:
        db.close()
    assert writable_while_waiting == [True]


async def test_a_state_from_before_the_minute_bucket_starts_fresh(tmp_path: Path) -> None:
    path = tmp_path / "leadenrich.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE rate_limits (key TEXT PRIMARY KEY, tat_us INTEGER NOT NULL)")
    old.execute("INSERT INTO rate_limits VALUES (?, ?)", (KEY, int((T0 + 600) * 1_000_000)))
    old.commit()
    old.close()
    db = Database(path)
    t = FakeTime(T0)
    try:
        assert await limiter(db, Limit(1, 60), t).acquire(KEY, Deadline.after(1))
        tables = {
            row[0] for row in db.connection().execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    finally:
        db.close()
    assert "rate_limits" not in tables and "rate_paces" in tables
