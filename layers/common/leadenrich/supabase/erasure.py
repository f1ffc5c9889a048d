"""The erasure's eraser for Supabase (`leadenrich.privacy.erasure`; docs/privacy.md, "Erasure"): the
workspace's `emails` rows and the matching `leads` fields whenever Supabase is configured, and its job items
when it is the job store (JOB_STORE=supabase), through the functions of migration 0010_erasure.

Items follow `privacy.erasure_rules` as in every store: SQL returns the workspace's items that hold one of
the subject's patterns, the rules scrub them here, and `erasure_rewrite_items` writes each back only while
its status is the one read; an item a processor changed meanwhile is read and scrubbed again.

A stored lead is the subject's when it is asked for (by id or external id), is the person (first and last
name at the domain), is at an erased domain, or holds one of the subject's addresses as its named person's
(`contact` `named_person`). Such a lead loses its first name, last name and external id, and every
`emails` row it has; any other lead loses only the `emails` rows of the subject's addresses (a company-level
lead that listed the person among its decision-makers). The lead row itself stays: it is the customer's
record of a company, and its id may be held elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from leadenrich.jobs.ports import LeadStoreError
from leadenrich.privacy.erasure import PlaceErased
from leadenrich.privacy.erasure_rules import (
    NAMED_PERSON,
    ItemChange,
    Person,
    StoredItem,
    Subject,
    host,
    item_links,
    scrub_item,
)
from leadenrich.supabase.rpc import PAGE_ROWS, Connect, call, chunks, object_of, rows_of

FIND_ITEMS = "erasure_find_items"
REWRITE_ITEMS = "erasure_rewrite_items"
FIND_LEADS = "erasure_find_leads"
ERASE_LEADS = "erasure_erase_leads"
_RETRIES = 3


def _uuids(values: Sequence[str] | frozenset[str]) -> list[str]:
    """The values that are UUIDs (leads.id's type), as PostgreSQL writes them; others name no lead."""
    found = []
    for value in values:
        try:
            found.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return sorted(found)


def _stored_item(row: Mapping[str, Any]) -> StoredItem:
    lead, result = row.get("lead"), row.get("result")
    return StoredItem(
        lead=lead if isinstance(lead, dict) else {},
        result=result if isinstance(result, dict) else None,
        reason=row.get("reason"),
        lead_id=str(row["lead_id"]) if row.get("lead_id") else None,
    )


def _emails(lead: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    listed = lead.get("emails")
    return [e for e in listed if isinstance(e, Mapping)] if isinstance(listed, list) else []


def whole_lead(lead: Mapping[str, Any], subject: Subject) -> bool:
    """Whether the stored lead is the subject's (module docstring)."""
    domain = host(str(lead.get("domain") or ""))
    person = Person.of(lead.get("first_name"), lead.get("last_name"), domain)
    return (
        str(lead.get("id")) in subject.lead_ids
        or lead.get("external_id") in subject.external_ids
        or domain in subject.domains
        or (person is not None and person in subject.people)
        or any(
            subject.has_address(e.get("email")) and e.get("contact") == NAMED_PERSON for e in _emails(lead)
        )
    )


def lead_links(lead: Mapping[str, Any], subject: Subject) -> Subject:
    """A lead of the subject's: its id, its person, and its named person's addresses."""
    if not whole_lead(lead, subject):
        return Subject()
    domain = host(str(lead.get("domain") or ""))
    person = Person.of(lead.get("first_name"), lead.get("last_name"), domain)
    named = {
        str(e["email"]).strip().lower()
        for e in _emails(lead)
        if isinstance(e.get("email"), str) and e.get("contact") == NAMED_PERSON
    }
    return Subject(
        addresses=frozenset(named),
        people=frozenset({person} if person is not None else set()),
        lead_ids=frozenset({str(lead["id"])}),
    )


class SupabaseErasure:
    """See the module docstring. `items`: Supabase is the job store (JOB_STORE=supabase)."""

    def __init__(self, connect: Connect, *, items: bool) -> None:
        self._connect = connect
        self._items = items

    @property
    def places(self) -> tuple[str, ...]:
        leads = ("supabase.emails", "supabase.leads")
        return ("job_items", *leads) if self._items else leads

    async def _item_rows(self, workspace_id: str, subject: Subject) -> list[dict[str, Any]]:
        params = {"p_workspace_id": workspace_id, "p_patterns": subject.patterns()}
        return rows_of(await call(self._connect, FIND_ITEMS, params), FIND_ITEMS)

    async def _leads(self, workspace_id: str, subject: Subject) -> list[dict[str, Any]]:
        params = {
            "p_workspace_id": workspace_id,
            "p_lead_ids": _uuids(subject.lead_ids),
            "p_external_ids": sorted(subject.external_ids),
            "p_domains": sorted({p.domain for p in subject.people} | subject.domains),
            "p_addresses": sorted(subject.addresses),
        }
        return rows_of(await call(self._connect, FIND_LEADS, params), FIND_LEADS)

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        links = Subject()
        if self._items:
            for row in await self._item_rows(workspace_id, subject):
                item = _stored_item(row)
                links = links | item_links(item, subject)
                if item.lead_id in subject.lead_ids:
                    links = links | Subject(lead_ids=frozenset({item.lead_id}))
        for lead in await self._leads(workspace_id, subject):
            links = links | lead_links(lead, subject)
        return links

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        places: list[PlaceErased] = []
        if self._items:
            places.append(PlaceErased("job_items", changed=await self._erase_items(workspace_id, subject)))
        whole = [
            str(lead["id"]) for lead in await self._leads(workspace_id, subject) if whole_lead(lead, subject)
        ]
        params = {
            "p_workspace_id": workspace_id,
            "p_lead_ids": _uuids(whole),
            "p_addresses": sorted(subject.addresses),
            "p_domains": sorted(subject.domains),
        }
        answer = object_of(await call(self._connect, ERASE_LEADS, params), ERASE_LEADS)
        try:
            removed, changed = int(answer["emails_removed"]), int(answer["leads_changed"])
        except (KeyError, TypeError, ValueError):
            raise LeadStoreError(
                f"Supabase {ERASE_LEADS}: unexpected answer (counts were expected)"
            ) from None
        return [
            *places,
            PlaceErased("supabase.emails", removed=removed),
            PlaceErased("supabase.leads", changed=changed),
        ]

    async def _erase_items(self, workspace_id: str, subject: Subject) -> int:
        """Rounds of read, scrub, rewrite until every item holding the subject is rewritten."""
        done = 0
        for _ in range(_RETRIES):
            changes: list[tuple[Mapping[str, Any], ItemChange]] = []
            for row in await self._item_rows(workspace_id, subject):
                change = scrub_item(_stored_item(row), subject)
                if change is not None:
                    changes.append((row, change))
            if not changes:
                return done
            written = 0
            for batch in chunks(changes, PAGE_ROWS):
                items = [
                    {
                        "job_id": row["job_id"],
                        "item_id": row["item_id"],
                        "status": row["status"],
                        "lead": change.lead,
                        "result": change.result,
                        "reason": change.reason,
                    }
                    for row, change in batch
                ]
                params = {"p_workspace_id": workspace_id, "p_items": items}
                written += int(await call(self._connect, REWRITE_ITEMS, params))
            done += written
            if written == len(changes):
                return done
        raise RuntimeError("erasure: items kept changing under the rewrite; send the erasure again")


__all__ = [
    "ERASE_LEADS",
    "FIND_ITEMS",
    "FIND_LEADS",
    "REWRITE_ITEMS",
    "SupabaseErasure",
    "lead_links",
    "whole_lead",
]
