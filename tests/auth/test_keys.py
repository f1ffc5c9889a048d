"""API keys: their shape and hash, and the key stores: DynamoDB (on moto) and SQLite (on a file) held to the
same tests, then the DynamoDB rows. The SQLite file's own tests (a restart, threads) are in
`tests/adapters/sqlite/test_sqlite_keys.py`."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from leadenrich.auth.keys import (
    KEY_PREFIX,
    KeyStore,
    authenticate,
    create_key,
    display,
    hash_key,
    new_key,
    well_formed,
)
from leadenrich.aws.dynamo_keys import DynamoKeyStore
from leadenrich.sqlite.keys import SqliteKeyStore
from tests.support.api_stack import TABLE

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_a_key_is_random_prefixed_and_only_its_hash_and_prefix_are_kept() -> None:
    made = new_key("acme", "ci", NOW)
    other = new_key("acme", "ci", NOW)
    assert made.secret.startswith(KEY_PREFIX) and len(made.secret) == 46 and well_formed(made.secret)
    assert made.secret != other.secret and made.key.key_id != other.key.key_id
    assert made.key.key_id.startswith("key_")
    assert made.key.prefix == made.secret[:11] and display(made.secret) == made.secret[:11] + "…"
    assert hash_key(made.secret) == hashlib.sha256(made.secret.encode()).hexdigest()
    assert made.secret not in repr(made.key)  # the stored record does not hold the key


@pytest.mark.parametrize(
    "candidate", ["", "le_short", "xx_" + "A" * 43, "le_" + "A" * 42 + "!", "le_" + "A" * 44]
)
def test_malformed_keys_are_refused_by_shape(candidate: str) -> None:
    assert not well_formed(candidate)


@pytest.mark.parametrize("workspace", ["", "-lead", "a b", "x" * 65, "ws#1"])
def test_workspace_names_are_checked(workspace: str) -> None:
    with pytest.raises(ValueError, match="workspace"):
        new_key(workspace, "", NOW)


@pytest.fixture
def dynamo_store(dynamodb: Any) -> DynamoKeyStore:
    return DynamoKeyStore(TABLE, dynamodb, serialize_calls=True)


@pytest.fixture(params=["dynamo", "sqlite"])
def store(request: pytest.FixtureRequest) -> KeyStore:
    """Each adapter in turn, on a fresh table or file."""
    if request.param == "dynamo":
        dynamo_store: DynamoKeyStore = request.getfixturevalue("dynamo_store")
        return dynamo_store
    return SqliteKeyStore(request.getfixturevalue("database"))


async def test_a_stored_key_resolves_by_hash_and_is_listed_without_the_key(store: KeyStore) -> None:
    made = await create_key(store, "acme", "ci", NOW)
    assert await authenticate(store, made.secret) == made.key
    assert await authenticate(store, made.secret[:-1] + ("A" if made.secret[-1] != "A" else "B")) is None
    assert await authenticate(store, None) is None
    assert await store.list_keys("acme") == [made.key]
    assert await store.list_keys("globex") == []


async def test_a_key_taken_twice_is_refused_and_the_first_kept(store: KeyStore) -> None:
    made = await create_key(store, "acme", "ci", NOW)
    clash = new_key("globex", "other", NOW).key
    with pytest.raises((ClientError, sqlite3.IntegrityError)):  # a cancelled transaction, a constraint
        await store.put(clash, hash_key(made.secret))
    assert await authenticate(store, made.secret) == made.key
    assert await store.list_keys("globex") == []


async def test_dynamodb_keeps_a_lookup_row_and_a_listing_row_without_the_key(
    dynamo_store: DynamoKeyStore, dynamodb: Any
) -> None:
    store = dynamo_store
    made = await create_key(store, "acme", "ci", NOW)
    rows = dynamodb.scan(TableName=TABLE)["Items"]
    assert len(rows) == 2  # the lookup row and the listing row
    assert made.secret not in str(rows)  # stored as its hash only
    assert {r["PK"]["S"] for r in rows} == {f"APIKEY#{hash_key(made.secret)}", "WS#acme#APIKEYS"}


async def test_listing_every_workspace_and_oldest_first(store: KeyStore) -> None:
    first = await create_key(store, "acme", "one", NOW)
    second = await create_key(store, "globex", "two", NOW + timedelta(seconds=1))
    third = await create_key(store, "acme", "three", NOW + timedelta(seconds=2))
    assert await store.list_keys() == [first.key, second.key, third.key]
    assert await store.list_keys("acme") == [first.key, third.key]


async def test_a_revoked_key_stops_authenticating_and_revoking_twice_keeps_the_first_time(
    store: KeyStore,
) -> None:
    made = await create_key(store, "acme", "ci", NOW)
    kept = await create_key(store, "acme", "other", NOW)
    revoked = await store.revoke(made.key.key_id, NOW + timedelta(hours=1))
    assert revoked is not None and revoked.revoked_at == NOW + timedelta(hours=1) and not revoked.active
    assert await authenticate(store, made.secret) is None
    assert await authenticate(store, kept.secret) == kept.key  # only that key
    again = await store.revoke(made.key.key_id, NOW + timedelta(hours=2))
    assert again is not None and again.revoked_at == NOW + timedelta(hours=1)
    listed = {k.key_id: k for k in await store.list_keys("acme")}
    assert not listed[made.key.key_id].active and listed[kept.key.key_id].active
    assert await store.revoke("key_unknown", NOW) is None


async def test_concurrent_revocations_agree(store: KeyStore) -> None:
    made = await create_key(store, "acme", "ci", NOW)
    results = await asyncio.gather(
        *(store.revoke(made.key.key_id, NOW + timedelta(minutes=i)) for i in range(4))
    )
    assert len({r.revoked_at for r in results if r is not None}) == 1
