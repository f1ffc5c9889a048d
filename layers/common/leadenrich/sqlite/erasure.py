"""The erasure's eraser for the embedded SQLite file (`leadenrich.privacy.erasure`; docs/privacy.md,
"Erasure"): the workspace's job items (unless JOB_STORE=supabase holds them), the provider cache and the
webhook records, by the rules of `privacy.erasure_rules`, with the meaning of `aws.dynamo_erasure`.

SQL narrows the rows to those that hold one of the subject's patterns (its domains, lead ids and external
ids: every row about the subject names one, `Subject.patterns`); the rules decide on each. The erase is one
write transaction (`BEGIN IMMEDIATE`): no processor writes an item between its read and its rewrite. A
table an adapter never made (a state file from before webhooks existed) holds nothing to erase.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from leadenrich.privacy.erasure import PlaceErased
from leadenrich.privacy.erasure_rules import (
    StoredItem,
    Subject,
    cache_links,
    item_links,
    row_text,
    scrub_cache,
    scrub_item,
)
from leadenrich.sqlite.db import Database

_ITEM_TEXT = (
    "lead || ' ' || coalesce(result, '') || ' ' || coalesce(reason, '') || ' ' || coalesce(lead_id, '')"
)


def _holding(text: str, patterns: Iterable[str]) -> tuple[str, list[str]]:
    """`(instr(lower(text), ?) > 0 OR ...)` and its parameters: rows whose text holds one of `patterns`."""
    found = list(patterns)
    clause = " OR ".join(f"instr(lower({text}), ?) > 0" for _ in found)
    return f"({clause or '0'})", found


def _json(text: object) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _stored_item(row: sqlite3.Row) -> StoredItem:
    lead = _json(row["lead"])
    return StoredItem(
        lead=lead if isinstance(lead, dict) else {},
        result=_json(row["result"]),
        reason=row["reason"],
        lead_id=row["lead_id"],
    )


class SqliteErasure:
    """See the module docstring. `items`: the file holds the job items (not with JOB_STORE=supabase)."""

    def __init__(self, db: Database, *, items: bool = True) -> None:
        self._db = db
        self._items = items

    @property
    def places(self) -> tuple[str, ...]:
        return ("job_items", "cache", "webhooks") if self._items else ("cache", "webhooks")

    @staticmethod
    def _tables(conn: sqlite3.Connection) -> set[str]:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _item_rows(self, conn: sqlite3.Connection, workspace_id: str, subject: Subject) -> list[sqlite3.Row]:
        if not self._items or "job_items" not in self._tables(conn):
            return []
        where, params = _holding(_ITEM_TEXT, subject.patterns())
        return conn.execute(
            "SELECT job_id, item_id, status, lead, lead_id, result, reason FROM job_items"  # noqa: S608 - no input
            f" WHERE workspace_id = ? AND {where}",
            (workspace_id, *params),
        ).fetchall()

    def _cache_rows(self, conn: sqlite3.Connection, subject: Subject) -> list[sqlite3.Row]:
        if "cache" not in self._tables(conn):
            return []
        where, params = _holding("key", subject.patterns())
        return conn.execute(f"SELECT key, payload FROM cache WHERE {where}", params).fetchall()  # noqa: S608

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        conn = self._db.read()
        links = Subject()
        for row in self._item_rows(conn, workspace_id, subject):
            item = _stored_item(row)
            links = links | item_links(item, subject)
            if item.lead_id in subject.lead_ids:
                links = links | Subject(lead_ids=frozenset({item.lead_id}))
        for row in self._cache_rows(conn, subject):
            links = links | cache_links(row["key"], _json(row["payload"]), subject)
        return links

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        with self._db.write() as conn:
            items = self._erase_items(conn, workspace_id, subject)
            removed, changed = self._erase_cache(conn, subject)
            hooks = self._erase_webhooks(conn, workspace_id, subject)
        places = [
            PlaceErased("cache", removed=removed, changed=changed),
            PlaceErased("webhooks", removed=hooks),
        ]
        return [PlaceErased("job_items", changed=items), *places] if self._items else places

    def _erase_items(self, conn: sqlite3.Connection, workspace_id: str, subject: Subject) -> int:
        changed = 0
        for row in self._item_rows(conn, workspace_id, subject):
            change = scrub_item(_stored_item(row), subject)
            if change is None:
                continue
            conn.execute(
                "UPDATE job_items SET lead = ?, result = ?, reason = ?"
                " WHERE workspace_id = ? AND job_id = ? AND item_id = ?",
                (
                    json.dumps(change.lead, ensure_ascii=False),
                    json.dumps(change.result, ensure_ascii=False) if change.result is not None else None,
                    change.reason,
                    workspace_id,
                    row["job_id"],
                    row["item_id"],
                ),
            )
            changed += 1
        return changed

    def _erase_cache(self, conn: sqlite3.Connection, subject: Subject) -> tuple[int, int]:
        removed = changed = 0
        for row in self._cache_rows(conn, subject):
            value = _json(row["payload"])
            change = scrub_cache(row["key"], value if isinstance(value, dict) else None, subject)
            if change is None:
                continue
            if change.value is None:
                conn.execute("DELETE FROM cache WHERE key = ?", (row["key"],))
                removed += 1
            else:
                payload = json.dumps(change.value, separators=(",", ":"), ensure_ascii=False)
                conn.execute("UPDATE cache SET payload = ? WHERE key = ?", (payload, row["key"]))
                changed += 1
        return removed, changed

    def _erase_webhooks(self, conn: sqlite3.Connection, workspace_id: str, subject: Subject) -> int:
        """The workspace's attempts and outbox entries, and inbound events of the workspace or of none, that
        name the subject (`Subject.mentions`)."""
        tables = self._tables(conn)
        patterns = subject.patterns()

        def rows(table: str, text: str, scope: str = "1") -> list[sqlite3.Row]:
            if table not in tables:
                return []
            where, params = _holding(text, patterns)
            query = f"SELECT rowid, * FROM {table} WHERE {scope} AND {where}"  # noqa: S608 - names are ours
            scoped: list[str] = [workspace_id] if scope != "1" else []
            return conn.execute(query, [*scoped, *params]).fetchall()

        def owner(text: object, default: object) -> object:
            value = _json(text)
            return value.get("workspace_id", default) if isinstance(value, dict) else default

        doomed: list[tuple[str, int]] = []
        for row in rows("webhook_events", "event_id || ' ' || summary"):
            if owner(row["summary"], None) in (None, workspace_id) and subject.mentions(row_text(dict(row))):
                doomed.append(("webhook_events", row["rowid"]))
        for row in rows("webhook_attempts", "event_id || ' ' || coalesce(error, '')", "workspace_id = ?"):
            if subject.mentions(row_text(dict(row))):
                doomed.append(("webhook_attempts", row["rowid"]))
        for row in rows("webhook_outbox", "delivery"):
            if owner(row["delivery"], "") == workspace_id and subject.mentions(row["delivery"]):
                doomed.append(("webhook_outbox", row["rowid"]))
        for row in rows("webhook_once", "event_id"):
            if subject.mentions(row["event_id"]):
                doomed.append(("webhook_once", row["rowid"]))
        for table, rowid in doomed:
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))  # noqa: S608 - names are ours
        return len(doomed)


__all__ = ["SqliteErasure"]
