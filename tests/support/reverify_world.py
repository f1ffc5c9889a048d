"""Stored addresses of various ages for the re-verification sweep (docs/reverification.md): one workspace's
items and a bystander's identical ones, so each store's selection is checked for its order (oldest first,
most used first among equals), its cut-off and its workspace scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from leadenrich.engine.models import Lead
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus
from leadenrich.jobs.ports import JobStore

WS, OTHER = "ws-reverify", "ws-bystander"
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=90)

OLDEST = "carol.old@acme.com"  # verified 300 days ago, one item
SHARED = "anna.ceo@acme.com"  # verified 200 days ago, held by two items: most used
SINGLE = "dave.cto@acme.com"  # verified 200 days ago, one item
FRESH = "bob.new@acme.com"  # verified 10 days ago: not due
DEAD = "gone@acme.com"  # undeliverable: no verified_at, never re-verified
VERIFIED = ("active", "deliverable", "verified")


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def address(email: str, verified: datetime | None) -> dict[str, Any]:
    graded = VERIFIED if verified else ("inactive", "undeliverable", "undeliverable")
    return {
        "email": email,
        "source": "hunter_direct",
        "confidence_score": 95,
        "email_type": "primary",
        "status": graded[0],
        "hunter_status": graded[1],
        "deliverability": graded[2],
        "verified_at": verified.isoformat() if verified else None,
        "method": "domain_search",
        "person": "Someone",
        "position": "CEO",
        "contact": "decision_maker",
    }


def result(*emails: dict[str, Any]) -> dict[str, Any]:
    return {"domain": "acme.com", "status": "found", "emails": list(emails), "reason": None}


RESULTS = [
    result(address(SHARED, days_ago(200)), address(FRESH, days_ago(10))),
    result(address(OLDEST, days_ago(300)), address(DEAD, None)),
    result(address(SHARED, days_ago(200))),  # the same address in another item
    result(address(SINGLE, days_ago(200))),
]
JOB_ID = {WS: "job_old", OTHER: "job_bystander"}


async def seed(store: JobStore) -> None:
    """Each workspace's finished job holding the addresses above, and one queued item without a result."""
    for workspace in (WS, OTHER):
        job = Job(workspace, JOB_ID[workspace], JobStatus.COMPLETED, days_ago(300))
        jid = JOB_ID[workspace]
        items = [
            Item(
                workspace,
                jid,
                f"{n:06d}",
                Lead(domain="acme.com"),
                ItemStatus.FOUND,
                1,
                None,
                found,
                days_ago(200),
            )
            for n, found in enumerate(RESULTS)
        ]
        items.append(Item(workspace, jid, "000009", Lead(domain="globex.io"), ItemStatus.QUEUED))
        await store.create_job(job, items)


def graded(item: Item | None) -> dict[str, tuple[str, str, str, str | None]]:
    """Each address of the item's result: (status, hunter_status, deliverability, verified_at)."""
    assert item is not None
    return {
        e["email"].lower(): (e["status"], e["hunter_status"], e["deliverability"], e["verified_at"])
        for e in (item.result or {}).get("emails", [])
    }
