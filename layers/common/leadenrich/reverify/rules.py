"""What a re-verification reads from and writes into a stored job result, the same on every store (SQLite,
DynamoDB, Supabase items), so the adapters cannot disagree (docs/reverification.md).

An address entry (`EnrichmentResult.as_record()["emails"]`) is *stale* when its `verified_at` is before the
cut-off: only verified addresses carry a `verified_at`, so an undeliverable, catch-all or unknown address is
never picked (nothing to re-verify: its verdict is already "not deliverable"). A new verdict replaces the
entry's four verdict fields, `status`, `hunter_status`, `deliverability` and `verified_at`, and nothing else
(provenance, person, score stay). It *changes* the address when one of the first three differs; a verdict
that agrees still writes the new `verified_at`, so the address is not picked again for another period.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadenrich.bounces.rules import address_of

VERDICT_FIELDS = ("status", "hunter_status", "deliverability")


@dataclass(frozen=True)
class Verdict:
    """An address's verdict as stored: the three graded fields and when it was verified (None: not
    verified, e.g. undeliverable)."""

    status: str
    hunter_status: str
    deliverability: str
    verified_at: str | None  # ISO 8601, as results store it

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> Verdict:
        return cls(
            str(entry.get("status") or ""),
            str(entry.get("hunter_status") or ""),
            str(entry.get("deliverability") or ""),
            entry.get("verified_at") if isinstance(entry.get("verified_at"), str) else None,
        )

    def graded(self) -> tuple[str, str, str]:
        return (self.status, self.hunter_status, self.deliverability)

    def fields(self) -> dict[str, str | None]:
        return {
            "status": self.status,
            "hunter_status": self.hunter_status,
            "deliverability": self.deliverability,
            "verified_at": self.verified_at,
        }


def entries(result: Mapping[str, Any] | None) -> list[Any]:
    emails = (result or {}).get("emails")
    return emails if isinstance(emails, list) else []


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def stale(result: Mapping[str, Any] | None, before: datetime) -> list[tuple[str, datetime]]:
    """The result's verified addresses (lower case) verified before `before`, with their time."""
    found: list[tuple[str, datetime]] = []
    for entry in entries(result):
        address = address_of(entry)
        at = parse_time(entry.get("verified_at")) if isinstance(entry, Mapping) else None
        if address and at is not None and at < before:
            found.append((address, at))
    return found


def rewritten(
    result: Mapping[str, Any] | None, email: str, verdict: Verdict
) -> tuple[dict[str, Any], list[Verdict]] | None:
    """The result with `email`'s entries carrying `verdict`, and the verdicts they had; None when it holds
    no entry of the address or every one carries the verdict already."""
    held = [e for e in entries(result) if address_of(e) == email]
    if result is None or not held or all(Verdict.of(e) == verdict for e in held):
        return None
    changed = copy.deepcopy(dict(result))
    before: list[Verdict] = []
    for entry in entries(changed):
        if address_of(entry) == email:
            before.append(Verdict.of(entry))
            entry.update(verdict.fields())
    return changed, before


__all__ = ["VERDICT_FIELDS", "Verdict", "entries", "parse_time", "rewritten", "stale"]
