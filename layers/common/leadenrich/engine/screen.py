"""Suppression as the engine sees it: a screen asked, before each paid call and before a result leaves the
engine, which of the lead's domain, people and addresses must not be processed (docs/privacy.md,
"Suppression").

The engine knows nothing of workspaces or where the lists live: whoever runs a lead (the job processor)
hands the waterfall or the verifier a `Screen` bound to the lead's workspace, as it hands it a spend gate
(`engine.budget`). The screen answers for the workspace's own list and the service-wide one together, and
is told of every Hunter 451 (`opted_out`), which it adds to the service-wide list for good, so no later job
of any workspace pays for that person or address, or returns them.

Where the engine asks (each a rule of the waterfall, in `waterfall*.py` and `verification.py`):

- the lead's domain, before anything is called: a suppressed domain ends the lead `not_found`, reason
  `suppressed: ...`, for nothing;
- a person (first name, last name, domain), before Email Finder, the domain's pattern or permutations are
  tried for them; a Domain Search row's person and address, before the row is used;
- every address, before it is verified, and every address of the result, last, with its person
  (`drop_suppressed`): whatever path found it, a suppressed address is never returned, so never stored
  (item results, the Supabase `emails` sink) either.

A lead run without a screen (`enrich domain`, benchmarks) checks nothing. A screen that fails raises: the
lead is deferred and tried again, never run unscreened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from leadenrich.engine.models import EmailStatus, EmailType, EnrichmentResult, LeadStatus
from leadenrich.engine.names import PersonName, parse_person_name, person_from_parts

SUPPRESSED = "suppressed"  # how a reason starts when a suppression decided the outcome


@dataclass(frozen=True)
class Domain:
    """Everyone at a company's domain (normalised, as the waterfall holds it)."""

    name: str


@dataclass(frozen=True)
class Person:
    """A person at a domain: matched on first and last name, case, accents and spacing ignored."""

    first_name: str
    last_name: str
    domain: str


@dataclass(frozen=True)
class Address:
    """One email address."""

    email: str


Subject = Domain | Person | Address


class Screen(Protocol):
    async def suppressed(self, subjects: Iterable[Subject]) -> set[Subject]:
        """Which of `subjects` are on the workspace's suppression list or the service-wide one."""
        ...

    async def opted_out(self, *, address: Address | None = None, person: Person | None = None) -> None:
        """Hunter answered 451 for this address or person: on the service-wide list from now on."""
        ...


async def suppressed(screen: Screen | None, subjects: Iterable[Subject]) -> set[Subject]:
    """`screen.suppressed(...)`, nothing without a screen or without subjects."""
    wanted = list(dict.fromkeys(subjects))
    if screen is None or not wanted:
        return set()
    return await screen.suppressed(wanted)


def people(name: PersonName | None, domain: str) -> list[Person]:
    """The spellings of a parsed name a list entry may have been made with: given and family name, and
    with middle names as part of the first name (`Mary Ann` + `Smith`)."""
    if name is None or not name.given or not name.family:
        return []
    spellings = [Person(name.given, name.family, domain)]
    if name.middles:
        spellings.append(Person(" ".join((name.given, *name.middles)), name.family, domain))
    return spellings


def person_of(first: str | None, last: str | None, domain: str) -> list[Person]:
    """A person as a source wrote them (a lead, a Domain Search row), and as the name parser reads them."""
    raw = [Person(first, last, domain)] if first and last else []
    return list(dict.fromkeys([*raw, *people(person_from_parts(first, last), domain)]))


async def drop_suppressed(screen: Screen | None, result: EnrichmentResult) -> EnrichmentResult:
    """The result without the addresses now suppressed (an address, or the person it names): the last check
    before a result leaves the engine, whatever path found its addresses. A `found` or `risky` lead left with
    none ends `not_found`; one left without a verified address, `risky`; a deferred one keeps its status."""
    if screen is None or not result.emails:
        return result
    subjects: dict[int, list[Subject]] = {}
    for index, found in enumerate(result.emails):
        named = parse_person_name(found.person) if found.person else None
        domain = found.email.rpartition("@")[2]
        subjects[index] = [Address(found.email), *people(named, domain)]
    blocked = await suppressed(screen, (s for group in subjects.values() for s in group))
    kept = [e for i, e in enumerate(result.emails) if not blocked.intersection(subjects[i])]
    if len(kept) == len(result.emails):
        return result
    if kept and all(e.email_type is not EmailType.PRIMARY for e in kept):
        kept[0] = dataclasses.replace(kept[0], email_type=EmailType.PRIMARY)
    status, reason = result.status, result.reason
    if status in (LeadStatus.FOUND, LeadStatus.RISKY):
        if not kept:
            status, reason = (
                LeadStatus.NOT_FOUND,
                f"{SUPPRESSED}: every address found is on a suppression list",
            )
        elif status is LeadStatus.FOUND and not any(e.status is EmailStatus.ACTIVE for e in kept):
            status = LeadStatus.RISKY
    return dataclasses.replace(result, emails=kept, status=status, reason=reason)


__all__ = [
    "SUPPRESSED",
    "Address",
    "Domain",
    "Person",
    "Screen",
    "Subject",
    "drop_suppressed",
    "people",
    "person_of",
    "suppressed",
]
