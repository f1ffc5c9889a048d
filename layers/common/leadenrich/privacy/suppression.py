"""Suppression lists: the people, addresses and domains the service must not search, guess, verify, store or
return (issue 14, item 1; docs/privacy.md, "Suppression").

Each workspace has its own list (`POST /suppressions`, `enrich suppress`), and the service has one list
for every workspace (`ports.SERVICE_WIDE`): the people and addresses Hunter answered 451 for ("this person
asked not to be processed"), added for good by the engine the moment it reads such an answer, and the
people erased. Entries are `identity.Identity`s: an address or a person is kept as a keyed hash with a
masked label, a domain in clear.

`WorkspaceScreen` is how the engine reads them (`engine.screen.Screen`): one per job item, bound to the
item's workspace, asking the list adapter (`SuppressionList.suppressed`, the workspace's entries and the
service-wide ones in one read) only for what it has not asked already during the item. `SuppressionEntry`
is one entry as the API, the command line and its CSV import take it, and `add_entries` what they do
with a request's entries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadenrich.engine.domains import DomainError, normalize_domain
from leadenrich.engine.screen import Address, Domain, Person, Subject
from leadenrich.jobs.errors import RequestRejected
from leadenrich.privacy.identity import (
    Identity,
    domain_identity,
    email_identity,
    normal_email,
    person_identity,
)
from leadenrich.privacy.ports import SERVICE_WIDE, Suppression, SuppressionList, SuppressionReason

log = logging.getLogger(__name__)

MAX_ENTRIES = 1000  # per request (`POST /suppressions`); a CSV import sends its rows in batches of this
Clock = Callable[[], datetime]


def identity_of(subject: Subject) -> Identity | None:
    """The list entry a subject of the engine would be stored as; None when it could not be one (a name or
    domain no entry can have been made for)."""
    try:
        if isinstance(subject, Domain):
            return domain_identity(subject.name)
        if isinstance(subject, Person):
            return person_identity(subject.first_name, subject.last_name, subject.domain)
        return email_identity(subject.email)
    except ValueError:
        return None


class WorkspaceScreen:
    """The engine's `Screen` for one item of a workspace's job. What it has read is remembered for the
    item (a lead asks about the same person or address at several steps); what it learns from a 451 too."""

    def __init__(
        self, suppressions: SuppressionList, workspace_id: str, clock: Clock = lambda: datetime.now(UTC)
    ) -> None:
        self._list = suppressions
        self._workspace = workspace_id
        self._clock = clock
        self._known: dict[str, bool] = {}  # identity key -> on a list

    async def suppressed(self, subjects: Iterable[Subject]) -> set[Subject]:
        identities = {subject: identity_of(subject) for subject in subjects}
        unread = list(dict.fromkeys(i.key for i in identities.values() if i and i.key not in self._known))
        if unread:
            found = await self._list.suppressed(self._workspace, unread)
            self._known.update({key: key in found for key in unread})
        return {subject for subject, i in identities.items() if i is not None and self._known[i.key]}

    async def opted_out(self, *, address: Address | None = None, person: Person | None = None) -> None:
        identities = [i for s in (address, person) if s is not None and (i := identity_of(s)) is not None]
        if not identities:
            return
        now = self._clock()
        await self._list.add(
            [Suppression(SERVICE_WIDE, i, SuppressionReason.OPTED_OUT, now) for i in identities]
        )
        self._known.update(dict.fromkeys((i.key for i in identities), True))
        # Never the address: its kind, and the workspace whose job met it.
        log.info(
            "451: added to the service-wide suppression list",
            extra={"kinds": [i.kind.value for i in identities], "workspace_id": self._workspace},
        )


class EntryError(ValueError):
    """An entry that is none of the three shapes; `field` names the part to change (None: the entry)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


SHAPES = "an entry is {email}, {first_name, last_name, domain} or {domain}"


class SuppressionEntry(BaseModel):
    """One entry: an address (`email`), a person at a company (`first_name`, `last_name`, `domain`), or a
    whole company (`domain` alone). Each field is checked as it is given; the shape by `identity()`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str | None = Field(default=None, max_length=254, description="an address to suppress")
    first_name: str | None = Field(default=None, max_length=256, description="with last_name and domain")
    last_name: str | None = Field(default=None, max_length=256, description="with first_name and domain")
    domain: str | None = Field(
        default=None, max_length=2048, description="alone: everyone at the domain; with names: that person"
    )

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normal_email(value)
        except ValueError as exc:
            raise ValueError(str(exc).removeprefix("email: ")) from None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_domain(value)
        except DomainError as exc:
            raise ValueError(str(exc)) from None

    def identity(self) -> Identity:
        """The entry as stored; EntryError naming the field when it is none of the three shapes."""
        named = self.first_name is not None or self.last_name is not None
        if self.email is not None:
            extra = next(
                (f for f in ("first_name", "last_name", "domain") if getattr(self, f) is not None), None
            )
            if extra is not None:
                raise EntryError(extra, f"not with email ({SHAPES})")
            return email_identity(self.email)
        if named:
            if self.domain is None:
                raise EntryError("domain", "required with first_name and last_name (the person's company)")
            try:
                return person_identity(self.first_name or "", self.last_name or "", self.domain)
            except ValueError as exc:
                field, _, message = str(exc).partition(": ")
                raise EntryError(field, message) from None
        if self.domain is not None:
            return domain_identity(self.domain)
        raise EntryError(None, f"empty: {SHAPES}")


async def add_entries(
    suppressions: SuppressionList,
    workspace_id: str,
    entries: Sequence[SuppressionEntry],
    reason: SuppressionReason,
    now: datetime,
) -> tuple[int, list[Identity]]:
    """Add a request's entries to the workspace's list: (how many were new, each entry's identity in the
    order given). Nothing is added when an entry is invalid: RequestRejected naming `entries.{n}.{field}`."""
    identities: list[Identity] = []
    for index, entry in enumerate(entries):
        try:
            identities.append(entry.identity())
        except EntryError as exc:
            where = f"entries.{index}" + (f".{exc.field}" if exc.field else "")
            raise RequestRejected(where, exc.message) from None
    unique = {i.key: i for i in identities}
    added = await suppressions.add([Suppression(workspace_id, i, reason, now) for i in unique.values()])
    return added, identities


class SuppressionsRequest(BaseModel):
    """`POST /suppressions`: up to 1,000 entries, each an address, a person at a domain, or a domain."""

    model_config = ConfigDict(extra="forbid")

    entries: list[SuppressionEntry] = Field(min_length=1, max_length=MAX_ENTRIES)


__all__ = [
    "MAX_ENTRIES",
    "EntryError",
    "SuppressionEntry",
    "SuppressionsRequest",
    "WorkspaceScreen",
    "add_entries",
    "identity_of",
]
