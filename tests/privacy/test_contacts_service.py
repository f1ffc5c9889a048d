"""The approval workflow's service (`leadenrich.privacy.contacts.ContactReview`) on the SQLite job store: the
queue's pages, a decision's order (stored first, then written to the email sink), and what it refuses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from leadenrich.engine.models import (
    Deliverability,
    EmailSource,
    EmailStatus,
    EmailType,
    EnrichmentResult,
    FoundEmail,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from leadenrich.jobs.errors import RequestRejected
from leadenrich.jobs.models import Item, ItemStatus, Job, JobStatus, LawfulBasis, ReviewState
from leadenrich.jobs.ports import CounterDelta, EmailsSaved, EmailWrite, LeadStoreError
from leadenrich.privacy.contacts import ContactConflict, ContactNotFound, ContactReview, found_email
from leadenrich.privacy.review import ItemPolicy, addresses, contact_id, review_of
from leadenrich.sqlite.db import Database
from leadenrich.sqlite.job_store import SqliteJobStore

WS = "ws"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


class Sink:
    """The `EmailSink` port, failing as Supabase would (LeadStoreError) while `failing`."""

    def __init__(self) -> None:
        self.failing = False
        self.saved: list[EmailWrite] = []

    async def save(self, writes: Sequence[EmailWrite]) -> EmailsSaved:
        if self.failing:
            raise LeadStoreError("Supabase upsert_emails: error 08006")
        self.saved += writes
        return EmailsSaved(inserted=sum(len(w.emails) for w in writes), requests=1)


def found(*emails: str) -> list[FoundEmail]:
    return [
        FoundEmail(
            email,
            EmailSource.HUNTER_DIRECT,
            90 - n,
            EmailType.PRIMARY if n == 0 else EmailType.SECONDARY,
            HunterStatus.DELIVERABLE,
            EmailStatus.ACTIVE,
            NOW,
            Method.EMAIL_FINDER,
            Deliverability.VERIFIED,
            person="Ada Lovelace",
            position="CTO",
        )
        for n, email in enumerate(emails)
    ]


async def finished(store: SqliteJobStore, job_id: str, *per_item: list[FoundEmail]) -> None:
    """A job whose items ended found with these addresses, held for review under the consent basis."""
    job = Job(WS, job_id, JobStatus.PENDING, NOW)
    items = [
        Item(WS, job_id, f"{n:06d}", Lead(domain="acme.de"), lead_id=f"lead-{n}")
        for n in range(len(per_item))
    ]
    await store.create_job(job, items)
    policy = ItemPolicy(LawfulBasis.CONSENT, review_required=True)
    for item, emails in zip(items, per_item, strict=True):
        claimed = await store.claim_item(
            WS, job_id, item.item_id, token="t", lease_until=NOW + timedelta(minutes=5), now=NOW
        )
        assert claimed is not None
        record = policy.stamp(EnrichmentResult("acme.de", LeadStatus.FOUND, emails).as_record())
        done = await store.finish_item(
            claimed, ItemStatus.FOUND, reason=None, result=record, delta=CounterDelta(found=1), now=NOW
        )
        assert done


@pytest.fixture
def store(database: Database) -> SqliteJobStore:
    return SqliteJobStore(database)


async def test_a_page_ends_on_a_whole_item_and_the_next_one_continues(store: SqliteJobStore) -> None:
    await finished(
        store, "j", found("a@acme.de", "b@acme.de", "c@acme.de"), found("d@acme.de"), found("e@acme.de")
    )
    review = ContactReview(store)

    first = await review.queue(WS, limit=2)  # one item of three addresses: more than the limit, whole
    assert [c.address["email"] for c in first.items] == ["a@acme.de", "b@acme.de", "c@acme.de"]
    second = await review.queue(WS, limit=2, cursor=first.cursor)
    assert [c.address["email"] for c in second.items] == ["d@acme.de", "e@acme.de"]
    assert second.cursor is None
    assert [c.contact_id for c in (await review.queue(WS)).items] == [
        c.contact_id for c in (*first.items, *second.items)
    ]
    assert (await review.queue("another")).items == []


async def test_an_approval_is_stored_before_it_is_written_and_written_when_asked_again(
    store: SqliteJobStore,
) -> None:
    emails = found("ada@acme.de", "bob@acme.de")
    await finished(store, "j", emails)
    sink = Sink()
    review = ContactReview(store, emails=sink, clock=lambda: NOW)
    ada, bob = (await review.queue(WS)).items

    sink.failing = True
    with pytest.raises(LeadStoreError):
        await review.decide(WS, ada.contact_id, ReviewState.APPROVED)
    stored = await store.get_item(WS, "j", "000000")
    assert stored is not None and review_of(addresses(stored.result)[0]) is ReviewState.APPROVED
    assert sink.saved == []

    sink.failing = False
    again = await review.decide(WS, ada.contact_id, ReviewState.APPROVED)  # already approved: written now
    assert review_of(again.address) is ReviewState.APPROVED
    [write] = sink.saved
    assert (write.workspace_id, write.lead_id, write.lawful_basis, write.review) == (
        WS,
        "lead-0",
        "consent",
        ReviewState.APPROVED,
    )
    assert write.emails == (emails[0],)  # the address as the engine found it, primary and all

    await review.decide(WS, bob.contact_id, ReviewState.REJECTED)
    assert len(sink.saved) == 1  # a rejection writes nothing
    with pytest.raises(ContactConflict, match="rejected already"):
        await review.decide(WS, bob.contact_id, ReviewState.APPROVED)
    with pytest.raises(ContactNotFound):
        await review.decide("another", ada.contact_id, ReviewState.APPROVED)
    with pytest.raises(ValueError, match=r"^contact_id: "):
        await review.decide(WS, "not-a-contact", ReviewState.APPROVED)


async def test_an_address_never_held_cannot_be_decided_and_a_bulk_names_a_bad_id(
    store: SqliteJobStore,
) -> None:
    job = Job(WS, "plain", JobStatus.PENDING, NOW)
    await store.create_job(job, [Item(WS, "plain", "000000", Lead(domain="acme.de"))])
    claimed = await store.claim_item(WS, "plain", "000000", token="t", lease_until=NOW, now=NOW)
    assert claimed is not None
    record = ItemPolicy().stamp(
        EnrichmentResult("acme.de", LeadStatus.FOUND, found("ada@acme.de")).as_record()
    )
    await store.finish_item(
        claimed, ItemStatus.FOUND, reason=None, result=record, delta=CounterDelta(), now=NOW
    )
    never_held = contact_id("plain", "000000", 0, "ada@acme.de")
    review = ContactReview(store)
    with pytest.raises(ContactConflict, match="not held"):
        await review.decide(WS, never_held, ReviewState.APPROVED)
    with pytest.raises(RequestRejected) as refused:
        await review.decide_many(WS, [never_held], [never_held, "nope"])
    assert refused.value.field == "reject.1"
    outcomes = await review.decide_many(WS, [never_held], [])
    assert [(o.outcome, o.message) for o in outcomes] == [
        ("conflict", "this address was not held for review: there is nothing to decide")
    ]


def test_an_address_record_comes_back_as_the_engines_address() -> None:
    email = found("ada@acme.de")[0]
    assert found_email(email.as_record()) == email
    old = {k: v for k, v in email.as_record().items() if k not in ("deliverability", "contact")}
    assert found_email(old).deliverability is Deliverability.UNKNOWN  # a result stored before grades
