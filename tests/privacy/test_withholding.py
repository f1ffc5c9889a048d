"""Reads of stored results leave out what was suppressed after it was stored (`privacy.withholding`), on the
embedded suppression list: by address or by the person an address names, the workspace's own list and the
service-wide one, another workspace's never."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, ItemStatus
from leadenrich.privacy.identity import email_identity, person_identity
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionReason
from leadenrich.privacy.withholding import withhold_suppressed
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.suppression import SqliteSuppressionList

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def address(email: str, person: str | None, status: str = "active", kind: str = "primary") -> dict[str, Any]:
    return {"email": email, "person": person, "status": status, "email_type": kind}


def item(n: int, status: str, *emails: dict[str, Any]) -> Item:
    result = {"domain": "acme.com", "status": status, "emails": list(emails), "reason": None}
    return Item("ws", "job_1", f"{n:06d}", Lead(domain="acme.com"), ItemStatus(status), result=result)


def test_suppressed_addresses_are_left_out_and_the_lead_status_follows(database: Database) -> None:
    lists = SqliteSuppressionList(database)
    entries = [
        Suppression(SERVICE_WIDE, email_identity("ada@acme.com"), SuppressionReason.OPTED_OUT, NOW),
        Suppression("ws", person_identity("Grace", "Hopper", "acme.com"), SuppressionReason.MANUAL, NOW),
        Suppression("other", email_identity("alan@acme.com"), SuppressionReason.MANUAL, NOW),
    ]
    asyncio.run(lists.add(entries))
    items = [
        item(1, "found", address("ada@acme.com", "Ada Lovelace"), address("alan@acme.com", "Alan Turing")),
        item(2, "found", address("g.hopper@acme.com", "Grace Hopper")),
        item(3, "found", address("alan@acme.com", "Alan Turing")),
        item(
            4, "found", address("ada@acme.com", None), address("info@acme.com", None, "inactive", "secondary")
        ),
    ]

    shown = asyncio.run(withhold_suppressed(lists, "ws", items))

    results = [i.result or {} for i in shown]
    assert [[a["email"] for a in r["emails"]] for r in results] == [
        ["alan@acme.com"],  # Ada opted out service-wide; Alan is only on another workspace's list
        [],  # Grace is on this workspace's list by name
        ["alan@acme.com"],
        ["info@acme.com"],
    ]
    assert [r.get("withheld") for r in results] == [1, 1, None, 1]
    assert [r["status"] for r in results] == ["found", "not_found", "found", "risky"]
    assert [i.status for i in shown] == ["found", "not_found", "found", "risky"]  # the items' follow
    assert results[1]["reason"].startswith("suppressed:") and shown[1].reason == results[1]["reason"]
    assert results[0]["emails"][0]["email_type"] == "primary"
    assert results[3]["emails"][0]["email_type"] == "primary"  # the one left is the best there is
    assert shown[2] is items[2]  # untouched items are the same objects
    assert (items[1].result or {})["emails"]  # the stored items themselves are not changed


def test_with_nothing_suppressed_nothing_is_read_twice_or_changed(database: Database) -> None:
    lists = SqliteSuppressionList(database)
    items = [item(1, "found", address("ada@acme.com", "Ada Lovelace")), item(2, "not_found")]
    assert asyncio.run(withhold_suppressed(lists, "ws", items)) == items
