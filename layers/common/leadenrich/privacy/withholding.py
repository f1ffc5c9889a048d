"""Stored results as they may leave the service now: without the addresses suppressed since they were stored.

A suppression holds from the moment it is made (docs/privacy.md, "Suppression"): a Hunter 451 met by any
workspace's job, an erasure in another workspace, an entry the workspace adds. What was stored before it
stays until an erasure or its retention period removes it, but no read of results returns it: the items
listing (and the exports and `enrich run` outputs made from it) and the review queue withhold it, and a
reviewer cannot approve it into Supabase; the lead buffer's reads (`GET /leads`, `POST /buffer/next`) apply
the same rule to a lead's enrichment (`buffer.service`). The lists are read once per page (the addresses,
and the people they name, in one `SuppressionList.suppressed` call).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leadenrich.engine.names import parse_person_name
from leadenrich.engine.screen import SUPPRESSED, Address, Screen, Subject, people
from leadenrich.jobs.models import Item, ItemStatus, ReviewState
from leadenrich.privacy import review
from leadenrich.privacy.ports import SuppressionList
from leadenrich.privacy.suppression import WorkspaceScreen

WITHHELD_KEY = "withheld"  # how many addresses a read left out of a stored result


def _subjects(record: Mapping[str, Any]) -> list[Subject]:
    """The address of an address record, and the person it names at the address's domain."""
    email = str(record.get("email") or "")
    person = record.get("person")
    named = parse_person_name(person) if isinstance(person, str) and person else None
    return [Address(email), *people(named, email.rpartition("@")[2])]


async def suppressed_addresses(
    suppressions: SuppressionList, workspace_id: str, records: Iterable[Mapping[str, Any]]
) -> set[str]:
    """The addresses among `records` now on the workspace's list or the service-wide one (the address, or
    the person it names)."""
    return await screened_addresses(WorkspaceScreen(suppressions, workspace_id), records)


async def screened_addresses(screen: Screen, records: Iterable[Mapping[str, Any]]) -> set[str]:
    """`suppressed_addresses` through a workspace's screen."""
    by_address = {str(r.get("email") or ""): _subjects(r) for r in records}
    by_address.pop("", None)
    if not by_address:
        return set()
    blocked = await screen.suppressed([s for group in by_address.values() for s in group])
    return {email for email, group in by_address.items() if blocked.intersection(group)}


def without_addresses(result: dict[str, Any], dropped: set[str]) -> dict[str, Any]:
    """The record without the `dropped` addresses, its lead status as the engine's last screen would set it
    (`engine.screen.drop_suppressed`): none left `not_found`, no active one left `risky`."""
    kept = [a for a in review.addresses(result) if a.get("email") not in dropped]
    changed = {**result, "emails": kept, WITHHELD_KEY: len(review.addresses(result)) - len(kept)}
    if kept and all(a.get("email_type") != "primary" for a in kept):
        changed["emails"] = [{**kept[0], "email_type": "primary"}, *kept[1:]]
    if result.get("status") in ("found", "risky"):
        if not kept:
            changed["status"] = "not_found"
            changed["reason"] = f"{SUPPRESSED}: every address found is on a suppression list"
        elif result.get("status") == "found" and not any(a.get("status") == "active" for a in kept):
            changed["status"] = "risky"
    if review.PENDING_KEY in result:
        changed[review.PENDING_KEY] = sum(1 for a in kept if review.review_of(a) is ReviewState.PENDING)
    return changed


async def withhold_suppressed(
    suppressions: SuppressionList, workspace_id: str, items: Sequence[Item]
) -> list[Item]:
    """`items` with every suppressed address left out of their results (module docstring)."""
    records = [a for item in items for a in review.addresses(item.result)]
    dropped = await suppressed_addresses(suppressions, workspace_id, records)
    if not dropped:
        return list(items)
    return [_withheld(item, dropped) for item in items]


def _withheld(item: Item, dropped: set[str]) -> Item:
    """The item with its result less `dropped`; a found or risky item's status and reason follow its
    result's, as the processor would have stored them had the suppression come first."""
    if item.result is None or not any(a.get("email") in dropped for a in review.addresses(item.result)):
        return item
    result = without_addresses(item.result, dropped)
    if item.status not in (ItemStatus.FOUND, ItemStatus.RISKY):
        return dataclasses.replace(item, result=result)
    status = ItemStatus(result["status"])
    reason = result.get("reason") if status is ItemStatus.NOT_FOUND else item.reason
    return dataclasses.replace(item, result=result, status=status, reason=reason)


__all__ = [
    "WITHHELD_KEY",
    "screened_addresses",
    "suppressed_addresses",
    "withhold_suppressed",
    "without_addresses",
]
