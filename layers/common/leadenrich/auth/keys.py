"""API keys: made at random, shown once, stored only as a hash, bound to one workspace, revocable.

A key is `le_` + 32 random bytes, URL-safe base64 (43 characters): 256 bits, so nobody guesses one and
nobody inverts its hash. It is stored as its SHA-256 (hex). A slow, salted password hash (bcrypt, argon2)
protects low-entropy secrets a person chose; it buys nothing against a 256-bit random key, would cost the
authorizer tens of milliseconds per uncached request, and, being salted, could not be looked up: the hash
of a high-entropy key is the row's key, so resolving one is a single GetItem.

Each key also has a public id (`key_` + 16 hex) and a display prefix (its first 11 characters, `le_` and
8 more): logs, listings and `revoke` use those, never the key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

KEY_PREFIX = "le_"
_KEY_BYTES = 32
_KEY_PATTERN = re.compile(r"le_[A-Za-z0-9_-]{43}")
_DISPLAY_LENGTH = len(KEY_PREFIX) + 8
WORKSPACE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class ApiKey:
    """What is stored about a key: everything but the key itself."""

    key_id: str
    workspace_id: str
    name: str
    prefix: str  # the key's first characters, to recognise it in a listing
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` is shown to its owner once and never stored."""

    key: ApiKey
    secret: str


class KeyStore(Protocol):
    async def put(self, key: ApiKey, key_hash: str) -> None:
        """Store a new key (its lookup row by hash and its listing row, in one transaction)."""
        ...

    async def resolve(self, key_hash: str) -> ApiKey | None:
        """The key with this hash (revoked ones too: the caller checks `active`); None if unknown."""
        ...

    async def list_keys(self, workspace_id: str | None = None) -> list[ApiKey]:
        """A workspace's keys (every workspace's with None), oldest first."""
        ...

    async def revoke(self, key_id: str, now: datetime) -> ApiKey | None:
        """Mark the key revoked (once: revoking again keeps the first time); None if unknown."""
        ...


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def well_formed(candidate: str) -> bool:
    """A key's shape (checked before any lookup: junk never reaches the table)."""
    return _KEY_PATTERN.fullmatch(candidate) is not None


def display(secret: str) -> str:
    """What may be shown or logged of a key: its prefix."""
    return secret[:_DISPLAY_LENGTH] + "…"


def valid_workspace(workspace_id: str) -> bool:
    return WORKSPACE_PATTERN.fullmatch(workspace_id) is not None


def new_key(workspace_id: str, name: str, now: datetime) -> NewKey:
    if not valid_workspace(workspace_id):
        raise ValueError(
            f"workspace {workspace_id!r}: 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name: at most {MAX_NAME_LENGTH} characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    key = ApiKey(
        key_id="key_" + secrets.token_hex(8),
        workspace_id=workspace_id,
        name=name,
        prefix=secret[:_DISPLAY_LENGTH],
        created_at=now,
    )
    return NewKey(key, secret)


async def create_key(store: KeyStore, workspace_id: str, name: str, now: datetime) -> NewKey:
    made = new_key(workspace_id, name, now)
    await store.put(made.key, hash_key(made.secret))
    return made


async def authenticate(store: KeyStore, candidate: str | None) -> ApiKey | None:
    """The active key `candidate` is, or None (missing, malformed, unknown or revoked)."""
    if not candidate or not well_formed(candidate):
        return None
    key = await store.resolve(hash_key(candidate))
    return key if key is not None and key.active else None
