"""What a hard bounce changes in a stored job result, the same on every store (DynamoDB, SQLite, Supabase),
so the adapters cannot disagree.

An address of a result (`EnrichmentResult.as_record()["emails"]`) that bounced is marked undeliverable
where it is: `status` inactive, `hunter_status` undeliverable, `deliverability` undeliverable, the three
fields the API and Supabase `emails` already have (no new key: the items' view forbids unknown ones). The
item keeps its status, attempts and counters (its job's figures stay what happened), and the rest of the
address's provenance is kept. Marking an address marked already changes nothing: a provider's retry, or two
bounces of one address, write nothing the second time.

Whether the address was a guess of ours (`guessed`): the domain's known pattern or a permutation
(`Method.KNOWN_PATTERN`, `Method.PERMUTATION`; Supabase rows keep only `source`, and
`perplexity_generated` is exactly those two methods). A bounced guess is what lowers the trust in the
domain's pattern (`service`).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from leadenrich.engine.models import Deliverability, EmailSource, EmailStatus, HunterStatus, Method

UNDELIVERABLE: dict[str, str] = {
    "status": EmailStatus.INACTIVE.value,
    "hunter_status": HunterStatus.UNDELIVERABLE.value,
    "deliverability": Deliverability.UNDELIVERABLE.value,
}
GUESSED_METHODS = frozenset({Method.KNOWN_PATTERN.value, Method.PERMUTATION.value})
GUESSED_SOURCE = EmailSource.PERPLEXITY_GENERATED.value


def _entries(result: Mapping[str, Any] | None) -> list[Any]:
    emails = (result or {}).get("emails")
    return emails if isinstance(emails, list) else []


def address_of(entry: object) -> str | None:
    """An address entry's address as compared (lower case), None when the entry holds none."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("email"), str):
        return None
    return str(entry["email"]).strip().lower()


def held(result: Mapping[str, Any] | None, emails: Collection[str]) -> list[dict[str, Any]]:
    """The result's address entries that are one of `emails` (lower case), as stored."""
    return [dict(e) for e in _entries(result) if address_of(e) in emails]


def is_marked(entry: Mapping[str, Any]) -> bool:
    return all(entry.get(field) == value for field, value in UNDELIVERABLE.items())


def marked(result: Mapping[str, Any] | None, emails: Collection[str]) -> dict[str, Any] | None:
    """The result with each of `emails` marked undeliverable; None when it holds none of them unmarked."""
    if result is None or not any(not is_marked(e) for e in held(result, emails)):
        return None
    changed = copy.deepcopy(dict(result))
    for entry in _entries(changed):
        if address_of(entry) in emails:
            entry.update(UNDELIVERABLE)
    return changed


def guessed(entry: Mapping[str, Any]) -> bool:
    """Whether a stored address was our guess: from an item's result (`method`) or a Supabase row
    (`source`)."""
    method = entry.get("method")
    if isinstance(method, str):
        return method in GUESSED_METHODS
    return entry.get("source") == GUESSED_SOURCE


__all__ = ["GUESSED_METHODS", "UNDELIVERABLE", "address_of", "guessed", "held", "is_marked", "marked"]
