"""Erasure (issue 14; docs/privacy.md, "Erasure"): a workspace's request to remove a person's data from every
place the service keeps it, answered with a receipt of what was erased where.

One erasure, in order:

1. the request (an address, a domain, a stored lead's id or an external id) becomes a `Subject`
   (`erasure_rules`); for anything but a domain, every eraser is asked once what its rows link to it (the
   names behind an address, the addresses of a named person or a lead), so an erasure by address also
   finds the person, and one by lead the lead's addresses wherever they are;
2. the subject is suppressed *before* anything is erased, so no job can collect the person again while
   the erasure runs (and a repeat after a timeout finds them suppressed already): each address and person
   on the workspace's list and on the service-wide one (the request is the person's right against the
   whole service, so another workspace's job must not collect them either), a domain on the workspace's
   list only (a company is not a person with a right to erasure; blocking it for every customer is an
   operator's decision, `enrich suppress`);
3. each eraser removes what it holds in the workspace (job items, Supabase's `emails` and `leads`) and in
   the service's shared records (the provider cache, webhook records), and says how many rows it removed
   or changed.

Erasures are idempotent: a repeat removes nothing more, adds no suppression entry, and says so (the API
answers 200 instead of 201). The receipt names the person only masked (`a***@acme.com`) and by the keys of
their suppression entries (keyed hashes); it is returned once and not stored, and the audit trail keeps
its counts under the request's hashed identity (`ErasureTarget.audit_key`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Protocol

from leadenrich.jobs.errors import RequestRejected
from leadenrich.privacy.erasure_rules import Person, Subject
from leadenrich.privacy.identity import (
    Identity,
    _digest,  # the same keyed hash as the identities: an external id may be personal, never kept in clear
    domain_identity,
    email_identity,
    mask,
    person_identity,
)
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionList, SuppressionReason

REASON = SuppressionReason.ERASED


class ErasureKind(StrEnum):
    EMAIL = "email"
    DOMAIN = "domain"
    LEAD_ID = "lead_id"  # a stored lead (Supabase `leads.id`)
    EXTERNAL_ID = (
        "external_id"  # the caller's id of a lead (an item's `lead.external_id`, `leads.external_id`)
    )


class Scope(StrEnum):
    WORKSPACE = "workspace"
    SERVICE = "service"


@dataclass(frozen=True)
class ErasureTarget:
    """What was asked to be erased: an address (lower case), a domain (normalised), a lead id or an
    external id, as given. `api_erasures` checks them before they get here."""

    kind: ErasureKind
    value: str

    def subject(self) -> Subject:
        if self.kind is ErasureKind.EMAIL:
            return Subject(addresses=frozenset({self.value}))
        if self.kind is ErasureKind.DOMAIN:
            return Subject(domains=frozenset({self.value}))
        if self.kind is ErasureKind.LEAD_ID:
            return Subject(lead_ids=frozenset({self.value}))
        return Subject(external_ids=frozenset({self.value}))

    @property
    def label(self) -> str:
        """As the receipt shows it: an address masked, an external id hidden (it may be an address)."""
        if self.kind is ErasureKind.EMAIL:
            return mask(self.value)
        if self.kind is ErasureKind.EXTERNAL_ID:
            return f"{self.value[:1]}***"
        return self.value

    @property
    def audit_key(self) -> str:
        """The audit entry's target: a keyed hash for an address or an external id, the domain or the
        lead id (neither is personal data) in clear."""
        if self.kind is ErasureKind.EMAIL:
            return email_identity(self.value).key
        if self.kind is ErasureKind.DOMAIN:
            return domain_identity(self.value).key
        if self.kind is ErasureKind.LEAD_ID:
            return f"lead:{self.value}"
        return "x:" + _digest(self.value)


@dataclass(frozen=True)
class PlaceErased:
    """What one place held of the subject: rows deleted, rows rewritten without it."""

    place: str  # job_items, cache, webhooks, supabase.emails, supabase.leads
    removed: int = 0
    changed: int = 0


class Eraser(Protocol):
    """One store's part of an erasure; every call is scoped to the workspace, but for the service's shared
    records (the cache, inbound webhook events), which hold no workspace."""

    @property
    def places(self) -> tuple[str, ...]:
        """The places it answers for, in the receipt's order."""
        ...

    async def find(self, workspace_id: str, subject: Subject) -> Subject:
        """What its rows link to the subject (`erasure_rules.item_links`, `cache_links`; for a stored lead
        asked for, its id when the lead exists); an empty Subject when nothing."""
        ...

    async def erase(self, workspace_id: str, subject: Subject) -> list[PlaceErased]:
        """Remove the subject's data (`erasure_rules`); one count per place, zeros included."""
        ...


@dataclass(frozen=True)
class Suppressed:
    """A suppression entry the erasure asked for: its identity (key and masked label) and its lists."""

    identity: Identity
    scopes: tuple[Scope, ...]


@dataclass(frozen=True)
class ErasureReceipt:
    erasure_id: str
    workspace_id: str
    target: ErasureTarget
    erased_at: datetime
    places: list[PlaceErased]
    suppressed: list[Suppressed]
    new_entries: int  # suppression entries that were not there before: 0 for a repeat

    @property
    def first_time(self) -> bool:
        """Whether this erasure added anything to the suppression lists (201) or repeated one (200)."""
        return self.new_entries > 0

    def counts(self) -> dict[str, dict[str, int]]:
        """Per place, what the audit entry keeps."""
        return {p.place: {"removed": p.removed, "changed": p.changed} for p in self.places}


def _identities(subject: Subject) -> list[Suppressed]:
    """Every address and person service-wide and in the workspace; a domain in the workspace only. A
    stored value no identity can be made of (not an address, no usable domain) is erased all the same,
    and has nothing to suppress."""
    both, own = (Scope.WORKSPACE, Scope.SERVICE), (Scope.WORKSPACE,)
    people = sorted(subject.people, key=lambda p: (p.domain, p.last_key, p.first_key))
    makers: list[tuple[tuple[Scope, ...], Callable[[], Identity]]] = [
        *((both, partial(email_identity, a)) for a in sorted(subject.addresses)),
        *((both, partial(_person, p)) for p in people),
        *((own, partial(domain_identity, d)) for d in sorted(subject.domains)),
    ]
    found: list[Suppressed] = []
    for scopes, make in makers:
        try:
            found.append(Suppressed(make(), scopes))
        except ValueError:
            continue
    return found


def _person(person: Person) -> Identity:
    return person_identity(person.first, person.last, person.domain)


class ErasureService:
    """See the module docstring. `erasers` in receipt order; `leads_configured`: Supabase holds stored
    leads (a `lead_id` erasure needs it)."""

    def __init__(
        self,
        erasers: Sequence[Eraser],
        suppressions: SuppressionList,
        *,
        leads_configured: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.erasers = list(erasers)
        self.suppressions = suppressions
        self.leads_configured = leads_configured
        self.clock = clock

    async def resolve(self, workspace_id: str, target: ErasureTarget) -> Subject:
        """The subject with what the stores link to it (module docstring, step 1). RequestRejected naming
        `lead_id` without Supabase, or for a lead that is not the workspace's."""
        asked = target.subject()
        if target.kind is ErasureKind.LEAD_ID and not self.leads_configured:
            raise RequestRejected("lead_id", "stored leads need Supabase, which is not configured")
        if target.kind is ErasureKind.DOMAIN:
            return asked  # everything at the domain is erased: nothing to link
        links = Subject()
        for eraser in self.erasers:
            links = links | await eraser.find(workspace_id, asked)
        if target.kind is ErasureKind.LEAD_ID and target.value not in links.lead_ids:
            raise RequestRejected("lead_id", "not a lead of this workspace")
        return asked | links

    async def erase(self, workspace_id: str, target: ErasureTarget) -> ErasureReceipt:
        subject = await self.resolve(workspace_id, target)
        now = self.clock()
        suppressed = _identities(subject)
        entries = [
            Suppression(workspace_id if scope is Scope.WORKSPACE else SERVICE_WIDE, s.identity, REASON, now)
            for s in suppressed
            for scope in s.scopes
        ]
        new_entries = await self.suppressions.add(entries) if entries else 0
        places = [place for eraser in self.erasers for place in await eraser.erase(workspace_id, subject)]
        return ErasureReceipt(
            erasure_id=new_erasure_id(),
            workspace_id=workspace_id,
            target=target,
            erased_at=now,
            places=places,
            suppressed=suppressed,
            new_entries=new_entries,
        )


def new_erasure_id() -> str:
    return "era_" + secrets.token_hex(12)


__all__ = [
    "Eraser",
    "ErasureKind",
    "ErasureReceipt",
    "ErasureService",
    "ErasureTarget",
    "PlaceErased",
    "Scope",
    "Suppressed",
    "new_erasure_id",
]
