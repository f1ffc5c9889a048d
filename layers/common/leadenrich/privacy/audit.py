"""What every `AuditLog` adapter does the same way (issue 14, docs/privacy.md "Audit trail"): entry ids,
the listing's cursor, the query's checks, how long a workspace's entries are kept, and how a stored
`detail` reads back.

Entry ids are ULID-like (`aud_` + 26 Crockford base-32 characters: 48 bits of milliseconds, 80 random
bits): unique without a counter to contend on, and in time order, so `{at}#{entry_id}` is a key that
sorts newest first when read backwards and never collides between two API calls of the same microsecond.

A cursor names the workspace *and* the filters of the listing it continues (a digest of them): the
position it holds is only meaningful in that listing, so a cursor of another workspace or another set of
filters is a `BadCursor` (422 naming `query.cursor`), never a page of something else. Both adapters make
and read the same cursor (`audit_cursor`, `after_entry`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from leadenrich.jobs.encoding import (
    ANOTHER_LISTING,
    NOT_OURS,
    BadCursor,
    check_limit,
    cursor_ts,
    decode_cursor,
    encode_cursor,
    opt_ts,
    ts,
)
from leadenrich.privacy.ports import AuditEntry, AuditQuery, WorkspaceSettings, WorkspaceSettingsStore

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = WorkspaceSettings().audit_retention_days  # one year
ENTRY_ID_PREFIX = "aud_"
MAX_DETAIL_CHARS = 32_768  # a bulk action's 100 job ids (twice: asked, done) fit with room; more is refused
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LISTING = "audit"


def new_entry_id(at: datetime) -> str:
    """`aud_` + a ULID of `at`: time-ordered, unique (80 random bits per millisecond)."""
    millis = max(0, int(at.timestamp() * 1000))
    value = (millis % (1 << 48)) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return ENTRY_ID_PREFIX + "".join(reversed(chars))


def check_query(query: AuditQuery) -> None:
    """ValueError naming the field: a limit out of range, or a time range that holds nothing."""
    check_limit(query.limit)
    if query.since is not None and query.until is not None and query.since >= query.until:
        raise ValueError("until: must be after since")


def _listing(query: AuditQuery) -> str:
    """A digest of the filters: what a cursor is bound to besides its workspace."""
    times = [opt_ts(query.since), opt_ts(query.until)]
    filters = [query.action, query.target, query.job_id, query.actor, *times]
    return hashlib.sha256(json.dumps(filters).encode()).hexdigest()[:16]


def audit_cursor(query: AuditQuery, at: str, entry_id: str) -> str:
    """Where a listing of `query` stopped: its last entry (`at` as stored, `jobs.encoding.ts` text)."""
    return encode_cursor(
        {"list": _LISTING, "ws": query.workspace_id, "q": _listing(query), "at": at, "id": entry_id}
    )


def after_entry(query: AuditQuery) -> tuple[str, str] | None:
    """(at as stored, entry id) the query's cursor names; None without one; BadCursor when it is not a
    cursor of this workspace's listing with these filters."""
    if query.cursor is None:
        return None
    scope = {"list": _LISTING, "ws": query.workspace_id, "q": _listing(query)}
    fields = decode_cursor(query.cursor, scope, ("at", "id"), {"id": ENTRY_ID_PREFIX})
    try:
        at = cursor_ts(fields["at"])
    except OverflowError as exc:  # a time with no UTC equivalent (year 1 at +01:00): not one of ours
        raise BadCursor(NOT_OURS) from exc
    # A made-up position outside the time range would be a start key DynamoDB refuses: not ours either.
    before = query.since is not None and at < ts(query.since)
    if before or (query.until is not None and at >= ts(query.until)):
        raise BadCursor(ANOTHER_LISTING)
    return at, fields["id"]


def expires_at(at: datetime, days: int) -> int:
    """The entry's end (epoch seconds, DynamoDB's TTL unit): `at` plus the retention."""
    when = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return int((when + timedelta(days=days)).timestamp())


def detail_text(entry: AuditEntry) -> str:
    """The detail as stored: compact JSON; ValueError when it is too large to be a summary."""
    text = json.dumps(entry.detail, sort_keys=True, separators=(",", ":"), default=str)
    if len(text) > MAX_DETAIL_CHARS:
        raise ValueError(f"detail: at most {MAX_DETAIL_CHARS} characters of JSON")
    return text


def read_detail(text: str | None) -> dict[str, Any]:
    loaded = json.loads(text) if text else {}
    return loaded if isinstance(loaded, dict) else {}


class AuditRetention:
    """How many days a workspace's entries are kept: its `audit_retention_days` when a settings store is
    given, else `default_days`. A settings store that cannot answer does not cost the entry: the default is
    used and the failure logged (by type)."""

    def __init__(
        self, settings: WorkspaceSettingsStore | None = None, default_days: int = DEFAULT_RETENTION_DAYS
    ) -> None:
        if default_days < 1:
            raise ValueError("audit_retention_days: must be at least 1")
        self._settings = settings
        self.default_days = default_days

    async def days(self, workspace_id: str) -> int:
        if self._settings is None:
            return self.default_days
        try:
            days = (await self._settings.get(workspace_id)).audit_retention_days
        except Exception as exc:  # an entry is kept with the default rather than lost
            log.warning("audit retention unread, default used", extra={"error": type(exc).__name__})
            return self.default_days
        return days if days >= 1 else self.default_days


__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "ENTRY_ID_PREFIX",
    "MAX_DETAIL_CHARS",
    "AuditRetention",
    "after_entry",
    "audit_cursor",
    "check_query",
    "detail_text",
    "expires_at",
    "new_entry_id",
    "read_detail",
]
