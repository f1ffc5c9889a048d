"""The approval workflow's service (docs/privacy.md "Contact approval"): the review queue as contacts, and a
reviewer's decisions, one at a time or in bulk. What the API's `/contacts` routes call.

A decision is the store's compare-and-set on the item's result (`JobStore.review_address`), so it lands once
whatever else happens to the item. Approving an address of an item tied to a stored lead then writes it to
Supabase `emails` (with `review: approved` and its lawful basis): it was held until now. The order is
decision first, then the write: a failed write (503) leaves the address approved but not yet in Supabase,
and approving it again (idempotent: an address approved already is approved) writes it then, as the
processor's own write is retried. The other way round, a write followed by a lost decision would put a
rejected address in Supabase.

Deciding an address the other way once decided (approve a rejected one) is a conflict: a rejection is a
reviewer saying "never use this", which a second click must not undo silently. An address that was never
held for review (no `review` on it) is a conflict too: there is nothing to approve.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from leadenrich.engine.models import Contact as Reaches
from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    FoundEmail,
    HunterStatus,
    Method,
)
from leadenrich.jobs.errors import RequestRejected
from leadenrich.jobs.models import Item, LawfulBasis, Page, ReviewState
from leadenrich.jobs.ports import EmailSink, EmailWrite, JobStore
from leadenrich.jobs.store_base import review_cursor
from leadenrich.privacy import review
from leadenrich.privacy.ports import SuppressionList
from leadenrich.privacy.review import ContactRef
from leadenrich.privacy.withholding import suppressed_addresses

MAX_PER_REQUEST = 100  # contact ids per list of a bulk request


class ContactNotFound(LookupError):
    """No such contact in the workspace (another workspace's is not found either): the API answers 404."""

    def __init__(self, contact_id: str) -> None:
        super().__init__(f"contact {contact_id} not found")


class ContactConflict(RuntimeError):
    """The address cannot take this decision (decided the other way, or never held): the API answers 409."""


@dataclass(frozen=True)
class ReviewedContact:
    """One address of one item, as the queue and the decisions show it."""

    contact_id: str
    item: Item
    index: int

    @property
    def address(self) -> dict[str, Any]:
        return review.addresses(self.item.result)[self.index]


@dataclass(frozen=True)
class Outcome:
    """One contact of a bulk request: what happened to it."""

    contact_id: str
    outcome: Literal["approved", "rejected", "not_found", "conflict"]
    message: str | None = None


def found_email(address: dict[str, Any]) -> FoundEmail:
    """An address record (`FoundEmail.as_record`) back as the engine's FoundEmail, for the email sink."""
    verified = address.get("verified_at")
    return FoundEmail(
        email=str(address["email"]),
        source=EmailSource(address["source"]),
        confidence_score=int(address["confidence_score"]),
        email_type=EmailType(address["email_type"]),
        hunter_status=HunterStatus(address["hunter_status"]),
        status=EmailStatus(address["status"]),
        verified_at=datetime.fromisoformat(verified) if isinstance(verified, str) else None,
        method=Method(address["method"]),
        deliverability=Deliverability(address.get("deliverability") or Deliverability.UNKNOWN),
        person=address.get("person"),
        position=address.get("position"),
        contact=Reaches(address.get("contact") or Reaches.DECISION_MAKER),
    )


class ContactReview:
    """The queue and the decisions of a deployment: its job store, and Supabase's email sink when set."""

    def __init__(
        self,
        store: JobStore,
        *,
        emails: EmailSink | None = None,
        suppressions: SuppressionList | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.emails = emails
        self.suppressions = suppressions
        self.clock = clock

    async def _suppressed(self, workspace_id: str, records: Sequence[dict[str, Any]]) -> set[str]:
        """The addresses among `records` suppressed since they were held (`privacy.withholding`)."""
        if self.suppressions is None:
            return set()
        return await suppressed_addresses(self.suppressions, workspace_id, records)

    async def queue(
        self, workspace_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[ReviewedContact]:
        """The workspace's pending contacts, by job, item and place, at most `limit` to a page. A page ends
        on a whole item (so the cursor, which names an item, loses none of its addresses), but always holds
        at least one item's. BadCursor for a cursor this listing did not make."""
        page = await self.store.review_queue(workspace_id, limit=limit, cursor=cursor)
        contacts: list[ReviewedContact] = []
        taken: list[Item] = []
        for item in page.items:
            pending = [
                ReviewedContact(review.contact_id(item.job_id, item.item_id, n, str(a.get("email"))), item, n)
                for n, a in enumerate(review.addresses(item.result))
                if review.review_of(a) is ReviewState.PENDING
            ]
            if taken and len(contacts) + len(pending) > limit:
                break
            contacts += pending
            taken.append(item)
        more = len(taken) < len(page.items) or page.cursor is not None
        last = taken[-1] if taken and more else None
        dropped = await self._suppressed(workspace_id, [c.address for c in contacts])
        contacts = [c for c in contacts if c.address.get("email") not in dropped]
        return Page(contacts, review_cursor(workspace_id, last.job_id, last.item_id) if last else None)

    async def decide(self, workspace_id: str, contact_id: str, decision: ReviewState) -> ReviewedContact:
        """Approve or reject one contact (see the module docstring). ValueError("contact_id: ...") for an id
        that is not one, ContactNotFound, ContactConflict; LeadStoreError when Supabase refused the write."""
        ref = review.parse_contact_id(contact_id)
        contact = await self._read(workspace_id, ref, contact_id)
        state = review.review_of(contact.address)
        if decision is ReviewState.APPROVED and await self._suppressed(workspace_id, [contact.address]):
            raise ContactConflict(
                "suppressed: the address or its person was put on a suppression list after it was held"
                " (a 451, an erasure, the workspace's list); it cannot be approved"
            )
        if state is ReviewState.PENDING:
            item = await self.store.review_address(
                workspace_id,
                ref.job_id,
                ref.item_id,
                index=ref.index,
                email=str(contact.address["email"]),
                decision=decision,
                now=self.clock(),
            )
            contact = (
                ReviewedContact(contact_id, item, ref.index)
                if item
                else await self._read(workspace_id, ref, contact_id)
            )
            state = review.review_of(contact.address)
        if state is None:
            raise ContactConflict("this address was not held for review: there is nothing to decide")
        if state is not decision:
            raise ContactConflict(f"this address was {state.value} already; a decision is not changed")
        if decision is ReviewState.APPROVED:
            await self._write(contact)
        return contact

    async def decide_many(
        self, workspace_id: str, approve: Sequence[str], reject: Sequence[str]
    ) -> list[Outcome]:
        """Each contact decided on its own (one failing does not stop the others), approvals first, in the
        order given, a repeated id once: a contact in both lists is approved, and its rejection is then a
        conflict. RequestRejected naming `approve.N` / `reject.N` for an id that is not one, or the list
        with more than `MAX_PER_REQUEST`, before anything is decided."""
        asked = [(ReviewState.APPROVED, f"approve.{n}", c) for n, c in enumerate(approve)]
        asked += [(ReviewState.REJECTED, f"reject.{n}", c) for n, c in enumerate(reject)]
        for name, ids in (("approve", approve), ("reject", reject)):
            if len(ids) > MAX_PER_REQUEST:
                raise RequestRejected(name, f"at most {MAX_PER_REQUEST} contact ids per request")
        for _, field, contact_id in asked:
            try:
                review.parse_contact_id(contact_id)
            except ValueError as exc:
                raise RequestRejected(field, str(exc).removeprefix("contact_id: ")) from None
        outcomes: list[Outcome] = []
        for decision, contact_id in dict.fromkeys((decision, c) for decision, _, c in asked):  # once each
            try:
                await self.decide(workspace_id, contact_id, decision)
            except ContactNotFound as exc:
                outcomes.append(Outcome(contact_id, "not_found", str(exc)))
                continue
            except ContactConflict as exc:
                outcomes.append(Outcome(contact_id, "conflict", str(exc)))
                continue
            outcomes.append(
                Outcome(contact_id, "approved" if decision is ReviewState.APPROVED else "rejected")
            )
        return outcomes

    async def _read(self, workspace_id: str, ref: ContactRef, contact_id: str) -> ReviewedContact:
        """The contact as stored: its item must be the workspace's and hold, at its place, the address the
        id's tag names (an item that ran again and found other addresses has no such contact)."""
        item = await self.store.get_item(workspace_id, ref.job_id, ref.item_id)
        found = review.addresses(item.result if item else None)
        if item is None or ref.index >= len(found) or not ref.names(str(found[ref.index].get("email"))):
            raise ContactNotFound(contact_id)
        return ReviewedContact(contact_id, item, ref.index)

    async def _write(self, contact: ReviewedContact) -> None:
        """An approved address into Supabase `emails`, when the item has a stored lead and Supabase is set
        (an idempotent upsert: approving again writes nothing new)."""
        item, address = contact.item, contact.address
        if self.emails is None or item.lead_id is None:
            return
        basis = str(address.get("lawful_basis") or LawfulBasis.LEGITIMATE_INTEREST.value)
        write = EmailWrite(
            item.workspace_id, item.lead_id, (found_email(address),), basis, ReviewState.APPROVED
        )
        await self.emails.save([write])


__all__ = [
    "MAX_PER_REQUEST",
    "ContactConflict",
    "ContactNotFound",
    "ContactReview",
    "Outcome",
    "ReviewedContact",
    "found_email",
]
