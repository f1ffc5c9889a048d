"""A hard bounce's marks in Supabase (`leadenrich.bounces.ports.BouncedAddresses`; docs/bounces.md), through
migration 0013's functions: the workspace's `emails` rows of the address (whenever Supabase is configured:
it is where the found addresses of stored leads go), and its job items when Supabase is the job store
(JOB_STORE=supabase), by the rules of `bounces.rules`.

Items are read, marked here and written back only while their result is still the one read (a processor or
a reviewer that changed one meanwhile wins; it is read again, in up to three rounds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from leadenrich.bounces import rules
from leadenrich.bounces.ports import Holding
from leadenrich.engine.models import Lead
from leadenrich.supabase.rpc import PAGE_ROWS, Connect, call, chunks, rows_of

FIND_ITEMS = "bounce_find_items"
REWRITE_ITEMS = "bounce_rewrite_items"
MARK_EMAILS = "bounce_mark_emails"
ITEMS, EMAILS = "job_items", "supabase.emails"
_ROUNDS = 3


def _lead(row: Mapping[str, Any]) -> Lead | None:
    lead = row.get("lead")
    try:
        return Lead.model_validate(lead) if isinstance(lead, dict) else None
    except ValueError:
        return None


class SupabaseBouncedAddresses:
    """See the module docstring. `items`: Supabase is the job store (JOB_STORE=supabase)."""

    def __init__(self, connect: Connect, *, items: bool) -> None:
        self._connect = connect
        self._items = items

    @property
    def places(self) -> tuple[str, ...]:
        return (ITEMS, EMAILS) if self._items else (EMAILS,)

    async def mark_undeliverable(
        self, workspace_id: str, emails: Sequence[str], now: datetime
    ) -> list[Holding]:
        if not emails:
            return []
        addresses = sorted({email.lower() for email in emails})
        holdings = await self._mark_items(workspace_id, addresses) if self._items else []
        params = {"p_workspace_id": workspace_id, "p_addresses": addresses}
        for row in rows_of(await call(self._connect, MARK_EMAILS, params), MARK_EMAILS):
            holdings.append(
                Holding(
                    EMAILS,
                    str(row["email"]),
                    changed=bool(row.get("changed")),
                    guessed=rules.guessed({"source": row.get("source")}),
                    lead_id=str(row["lead_id"]) if row.get("lead_id") else None,
                )
            )
        return holdings

    async def _mark_items(self, workspace_id: str, addresses: list[str]) -> list[Holding]:
        wanted = frozenset(addresses)
        params = {"p_workspace_id": workspace_id, "p_addresses": addresses}
        marked_here: set[tuple[str, str, str]] = set()  # (job, item, address) this call marked
        for _ in range(_ROUNDS):
            rows = rows_of(await call(self._connect, FIND_ITEMS, params), FIND_ITEMS)
            writes = [(row, changed) for row in rows if (changed := rules.marked(_result(row), wanted))]
            written: set[tuple[str, str]] = set()
            for batch in chunks(writes, PAGE_ROWS):
                items = [
                    {"job_id": r["job_id"], "item_id": r["item_id"], "expected": r["result"], "result": m}
                    for r, m in batch
                ]
                answer = await call(
                    self._connect, REWRITE_ITEMS, {"p_workspace_id": workspace_id, "p_items": items}
                )
                written |= {(str(w["job_id"]), str(w["item_id"])) for w in rows_of(answer, REWRITE_ITEMS)}
            for row, _changed in writes:
                if _key(row) in written:
                    marked_here |= {
                        (*_key(row), str(rules.address_of(e)))
                        for e in rules.held(_result(row), wanted)
                        if not rules.is_marked(e)
                    }
            if len(written) == len(writes):  # every item read is marked now (by this call or before)
                return [
                    Holding(
                        ITEMS,
                        address,
                        changed=(*_key(row), address) in marked_here,
                        guessed=rules.guessed(entry),
                        lead=_lead(row),
                        lead_id=str(row["lead_id"]) if row.get("lead_id") else None,
                    )
                    for row in rows
                    for entry in rules.held(_result(row), wanted)
                    if (address := str(rules.address_of(entry)))
                ]
        raise RuntimeError("bounce: items kept changing under the mark; the provider's retry will mark them")


def _result(row: Mapping[str, Any]) -> dict[str, Any] | None:
    result = row.get("result")
    return result if isinstance(result, dict) else None


def _key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row["job_id"]), str(row["item_id"])


__all__ = ["FIND_ITEMS", "MARK_EMAILS", "REWRITE_ITEMS", "SupabaseBouncedAddresses"]
