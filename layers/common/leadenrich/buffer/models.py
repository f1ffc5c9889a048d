"""The lead record, per workspace and namespace, and what the buffer's rules are stated in.

One record type for every lead the service holds on a workspace's behalf: a lead pushed into a namespace's
buffer now, and a lead created by `POST /leads` later (issue 15's next parts), so both read and enrich the
same way. A record carries the lead as given (`engine.models.Lead`), the caller's opaque `data`, where it is
in the buffer (`BufferState`), and its enrichment: the record seed 002 lists (`enrichment_status`,
`enriched_at`, `enrichment_error`, `sources_used`, `sources_failed`) and the engine's result, stored as the
job items store theirs (`EnrichmentResult.as_record()`: status, addresses, reason, usage).

Identity (`lead_key`): what makes two pushes "the same lead" in a namespace. The normalised address when the
lead has one; else the person (first and last name, folded for case, accents and spacing) at the normalised
domain; else the company (its normalised domain). Addresses and people are keyed hashes
(`privacy.identity`), the keys the suppression lists and erasures use, so no store holds a name or an
address in a key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from leadenrich.engine.domains import normalize_domain
from leadenrich.engine.models import EmailStatus, Lead
from leadenrich.privacy.identity import domain_identity, email_identity, person_identity

NAMESPACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"  # a campaign id: no "#" or "/" (store keys, paths)
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_PUSH = 1000  # leads per push
MAX_DATA_CHARS = 4096  # a lead's `data`, as compact JSON
MAX_CURSOR_STATE_CHARS = 16_384  # a namespace's stored cursor state, as compact JSON
LEASE_SECONDS = 60.0  # a claim's lease: past the API's 29 s, so only a dead caller's claim is taken back
LEAD_ID_PREFIX = "lead_"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class BufferState(StrEnum):
    BUFFERED = "buffered"  # waiting to be served
    CLAIMED = "claimed"  # being enriched and served by one caller, under a lease
    SERVED = "served"  # served once: the namespace's registry skips it on every later push


class EnrichmentStatus(StrEnum):
    PENDING = "pending"  # never enriched
    COMPLETED = (
        "completed"  # the waterfall (or the verifier) ran to a verdict: found, risky, not_found, invalid
    )
    FAILED = "failed"  # a permanent provider failure (key refused, quota spent)
    DEFERRED = "deferred"  # not finished: out of time, a provider asked to wait, the budget was reached


@dataclass(frozen=True)
class Enrichment:
    """A lead's enrichment record (seed 002's fields) and the engine's result (its `as_record()`)."""

    status: EnrichmentStatus = EnrichmentStatus.PENDING
    enriched_at: datetime | None = None
    error: str | None = None
    sources_used: tuple[str, ...] = ()
    sources_failed: tuple[str, ...] = ()
    result: dict[str, Any] | None = None

    @property
    def final(self) -> bool:
        """Whether running it again would only repeat the answer."""
        return self.status in (EnrichmentStatus.COMPLETED, EnrichmentStatus.FAILED)

    @property
    def emails(self) -> list[dict[str, Any]]:
        found = (self.result or {}).get("emails")
        return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []

    @property
    def has_active_address(self) -> bool:
        return any(e.get("status") == EmailStatus.ACTIVE.value for e in self.emails)


@dataclass(frozen=True)
class LeadRecord:
    workspace_id: str
    namespace: str
    lead_id: str  # `lead_` + a time-ordered id: the buffer's order
    lead_key: str  # the lead's identity in its namespace (`lead_key`)
    lead: Lead
    state: BufferState
    pushed_at: datetime
    data: dict[str, Any] | None = None
    parent_run_id: str | None = None  # the caller's run that claimed (and was served) it
    claim_token: str | None = None  # the claim's token: only its holder may serve it
    lease_until: datetime | None = None
    served_at: datetime | None = None
    enrichment: Enrichment = field(default_factory=Enrichment)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PushCounts:
    """What a store did with a push's records."""

    buffered: int = 0
    already_served: int = 0
    already_buffered: int = 0  # buffered or claimed already (or twice in the push)


@dataclass(frozen=True)
class ServedQuery:
    """`GET /leads`: a workspace's served leads, newest first, filtered."""

    workspace_id: str
    namespace: str | None = None
    enrichment_status: EnrichmentStatus | None = None
    since: datetime | None = None  # served at or after
    until: datetime | None = None  # served before
    limit: int = 100
    cursor: str | None = None


@dataclass(frozen=True)
class CursorState:
    """A namespace's pagination state, opaque to the service: the caller stores it and reads it back."""

    workspace_id: str
    namespace: str
    state: dict[str, Any]
    updated_at: datetime


def lead_key(lead: Lead) -> str:
    """The lead's identity in a namespace (module docstring); ValueError naming the field for a lead whose
    domain or names cannot be one (the request models refuse those first)."""
    if lead.email:
        return email_identity(lead.email).key
    domain = normalize_domain(lead.domain)
    if lead.first_name and lead.last_name:
        return person_identity(lead.first_name, lead.last_name, domain).key
    return domain_identity(domain).key


def new_lead_ids(at: datetime, count: int) -> list[str]:
    """`count` ids of leads pushed at `at`, in order: ULID-like (48 bits of milliseconds, then a random start
    and the lead's place in the push), so ids sort as leads were pushed, within a push too."""
    millis = max(0, int(at.timestamp() * 1000)) % (1 << 48)
    start = secrets.randbits(64) << 16
    ids = []
    for index in range(count):
        value = millis << 80 | (start + index)
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        ids.append(LEAD_ID_PREFIX + "".join(reversed(chars)))
    return ids


__all__ = [
    "LEAD_ID_PREFIX",
    "LEASE_SECONDS",
    "MAX_CURSOR_STATE_CHARS",
    "MAX_DATA_CHARS",
    "MAX_PUSH",
    "NAMESPACE_PATTERN",
    "RUN_ID_PATTERN",
    "BufferState",
    "CursorState",
    "Enrichment",
    "EnrichmentStatus",
    "LeadRecord",
    "PushCounts",
    "ServedQuery",
    "lead_key",
    "new_lead_ids",
]
