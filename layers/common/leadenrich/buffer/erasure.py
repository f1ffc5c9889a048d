"""What an erasure does to the lead buffer (docs/privacy.md, "Erasure"; docs/buffer.md, "Personal data"):
the rules every store's buffer eraser applies, on top of `privacy.erasure_rules`, so DynamoDB, SQLite and
Supabase cannot disagree.

- A lead record that *is* the subject (its address, its person at the domain, its external id, any lead at
  an erased domain: `erasure_rules.whole_item`), whether waiting, claimed or served, is deleted with its
  data and its enrichment. A claim being served meanwhile loses its lead (the serve's write finds no row)
  and the caller serves the next one; a run whose lead was erased is given a new one on its next call.
- Any other record (a company lead whose enrichment listed the person among its decision-makers) keeps
  its row and loses the subject's addresses from its result, as a job item does; its `enrichment_error`
  becomes `erased` when the result changed or it names them, and the caller's `data` is dropped when it
  mentions them.
- A namespace's stored cursor state is deleted when it mentions the subject (the caller's opaque state).

What stays: the served registry's entry (`retention.REGISTRY_DAYS`), which is the lead's keyed identity
only (the hash the suppression entry holds too, or a company's domain), so the namespace still never serves
that lead again; and the suppression entries the erasure adds, which stop it being pushed back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadenrich.privacy.erasure_rules import (
    ERASED,
    StoredItem,
    Subject,
    host,
    item_links,
    row_text,
    scrub_item,
    whole_item,
)

PLACE = "buffer"  # the erasure receipt's place


@dataclass(frozen=True)
class BufferRow:
    """What an eraser reads of a stored lead record: the lead (a JSON object), the caller's data, the
    enrichment's result and error."""

    lead: Mapping[str, Any]
    data: Mapping[str, Any] | None
    result: Mapping[str, Any] | None
    error: str | None

    def item(self) -> StoredItem:
        return StoredItem(lead=self.lead, result=self.result, reason=self.error)


@dataclass(frozen=True)
class BufferChange:
    """Delete the record (`delete`), or write back its data, result and error."""

    delete: bool
    data: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None


DELETE = BufferChange(delete=True)


def scrub_lead(row: BufferRow, subject: Subject) -> BufferChange | None:
    """What to do with a stored lead record (module docstring); None to leave it."""
    item = row.item()
    if whole_item(item, subject):
        return DELETE
    domain = host(str(row.lead.get("domain") or ""))
    change = scrub_item(item, subject)
    named_in_data = row.data is not None and subject.mentions(row_text(row.data), domain)
    if change is None and not named_in_data:
        return None
    result = dict(row.result) if row.result is not None else None
    error = row.error
    if change is not None:
        result = change.result
        error = ERASED if row.error is not None else None
    data = None if named_in_data else (dict(row.data) if row.data is not None else None)
    return BufferChange(delete=False, data=data, result=result, error=error)


def lead_links(row: BufferRow, subject: Subject) -> Subject:
    """What a stored lead tells about the subject (`erasure_rules.item_links`): the person behind an address
    of theirs, the addresses found for a person of theirs."""
    return item_links(row.item(), subject)


def cursor_named(state: object, subject: Subject) -> bool:
    """Whether a namespace's stored cursor state mentions the subject."""
    return isinstance(state, Mapping) and subject.mentions(row_text(state))


__all__ = ["DELETE", "PLACE", "BufferChange", "BufferRow", "cursor_named", "lead_links", "scrub_lead"]
