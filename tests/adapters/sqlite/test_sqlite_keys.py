"""The SQLite key store on a real file, beyond the contract in `tests/auth/test_keys.py`: keys and their
revocation outlive the process's `Database`, the file never holds a key, and revocations racing in threads
agree on one time."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadenrich.auth.keys import KeyStore, authenticate, create_key, hash_key
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.keys import SqliteKeyStore

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def conforms(store: SqliteKeyStore) -> KeyStore:
    """mypy checks the adapter against the port here."""
    return store


async def test_keys_and_revocations_outlive_the_database_object(path: Path) -> None:
    before = Database(path)
    store = SqliteKeyStore(before)
    kept = await create_key(store, "acme", "ci", NOW)
    revoked = await create_key(store, "acme", "old", NOW)
    await store.revoke(revoked.key.key_id, NOW + timedelta(hours=1))
    before.close()

    after = Database(path)
    try:
        store = SqliteKeyStore(after)
        assert await authenticate(store, kept.secret) == kept.key
        assert await authenticate(store, revoked.secret) is None
        listed = await store.list_keys("acme")
        assert [k.key_id for k in listed] == sorted([kept.key.key_id, revoked.key.key_id])
        assert {k.key_id: k.revoked_at for k in listed}[revoked.key.key_id] == NOW + timedelta(hours=1)
    finally:
        after.close()


async def test_the_file_holds_the_hash_and_never_the_key(db: Database, path: Path) -> None:
    made = await create_key(SqliteKeyStore(db), "acme", "ci", NOW)
    db.close()  # the WAL checkpointed into the file

    stored = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))
    assert hash_key(made.secret).encode() in stored
    assert made.secret.encode() not in stored


def test_revocations_racing_in_threads_agree_on_one_time(db: Database) -> None:
    store = SqliteKeyStore(db)
    made = asyncio.run(create_key(store, "acme", "ci", NOW))
    threads = 8
    start = threading.Barrier(threads, timeout=30)

    def revoke(index: int) -> object:
        start.wait()
        revoked = asyncio.run(store.revoke(made.key.key_id, NOW + timedelta(minutes=index)))
        assert revoked is not None
        return revoked.revoked_at

    with ThreadPoolExecutor(threads) as pool:
        times = set(pool.map(revoke, range(threads)))

    assert len(times) == 1
    [stored] = asyncio.run(store.list_keys("acme"))
    assert {stored.revoked_at} == times
