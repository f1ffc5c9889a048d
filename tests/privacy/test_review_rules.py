"""The approval workflow's rules on an item's result record, contact ids and the item policy
(`leadenrich.privacy.review`), and what leaves the service with a held address (items, callbacks)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

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
from leadenrich.jobs.models import (
    Item,
    ItemStatus,
    Job,
    JobKind,
    JobOptions,
    JobStatus,
    LawfulBasis,
    ReviewState,
)
from leadenrich.jobs.views import ItemView, JobEvent, JobEventData, JobView
from leadenrich.privacy.ports import WorkspaceSettings
from leadenrich.privacy.review import (
    PENDING_KEY,
    ItemPolicy,
    addresses,
    contact_id,
    decided,
    parse_contact_id,
    pending_count,
    review_of,
    shown,
)

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def address(email: str, kind: EmailType = EmailType.PRIMARY) -> FoundEmail:
    return FoundEmail(
        email,
        EmailSource.HUNTER_DIRECT,
        96,
        kind,
        HunterStatus.DELIVERABLE,
        EmailStatus.ACTIVE,
        NOW,
        Method.DOMAIN_SEARCH,
        Deliverability.VERIFIED,
        person="Ada Lovelace",
        position="CEO",
    )


def result(*emails: str) -> EnrichmentResult:
    found = [address(e, EmailType.PRIMARY if n == 0 else EmailType.SECONDARY) for n, e in enumerate(emails)]
    return EnrichmentResult("acme.de", LeadStatus.FOUND, found)


def job(kind: JobKind = JobKind.ENRICHMENT, basis: LawfulBasis = LawfulBasis.CONSENT) -> Job:
    return Job("ws", "job_1", JobStatus.RUNNING, NOW, JobOptions(kind=kind, lawful_basis=basis))


def test_a_contact_id_names_one_address_of_one_item_and_does_not_show_it() -> None:
    made = contact_id("job_0a1b", "000042", 1, "ada@acme.de")
    ref = parse_contact_id(made)
    assert (ref.job_id, ref.item_id, ref.index, ref.contact_id) == ("job_0a1b", "000042", 1, made)
    assert ref.names("ADA@acme.de") and not ref.names("bob@acme.de")  # the address as normalised
    assert "ada" not in made and len(made.rsplit(".", 1)[1]) == 8
    assert contact_id("job_0a1b", "000042", 1, "bob@acme.de") != made
    for bad in ("", "job.1.2", "job_0a1b.000042.1.XYZ", "job_0a1b.000042.100.3f2a9c1b", "a b.1.1.3f2a9c1b"):
        with pytest.raises(ValueError, match=r"^contact_id: "):
            parse_contact_id(bad)


def test_the_record_carries_the_basis_and_waits_for_review_when_required() -> None:
    record = result("ada@acme.de", "bob@acme.de").as_record()
    stamped = ItemPolicy(LawfulBasis.CONSENT, review_required=True).stamp(record)
    assert [(a["lawful_basis"], a["review"]) for a in addresses(stamped)] == [("consent", "pending")] * 2
    assert stamped[PENDING_KEY] == 2 and pending_count(stamped) == 2
    assert "review" not in addresses(record)[0]  # the engine's record is not changed

    plain = ItemPolicy(LawfulBasis.CONTRACT).stamp(record)
    assert [a.get("review") for a in addresses(plain)] == [None, None]
    assert [a["lawful_basis"] for a in addresses(plain)] == ["contract"] * 2
    assert PENDING_KEY not in plain and pending_count(plain) == 0
    nothing = ItemPolicy(review_required=True).stamp(
        EnrichmentResult("acme.de", LeadStatus.NOT_FOUND).as_record()
    )
    assert PENDING_KEY not in nothing  # no address: in no queue


def test_decisions_change_only_a_pending_address_that_is_still_the_one_named() -> None:
    stamped = ItemPolicy(review_required=True).stamp(result("ada@acme.de", "bob@acme.de").as_record())
    before = copy.deepcopy(stamped)
    approved = decided(stamped, 0, "ada@acme.de", ReviewState.APPROVED)
    assert approved is not None and stamped == before  # a new record
    assert [review_of(a) for a in approved["emails"]] == [ReviewState.APPROVED, ReviewState.PENDING]
    assert approved[PENDING_KEY] == 1
    assert decided(approved, 0, "ada@acme.de", ReviewState.REJECTED) is None  # decided already
    assert decided(approved, 1, "ada@acme.de", ReviewState.REJECTED) is None  # another address there
    assert decided(approved, 5, "bob@acme.de", ReviewState.REJECTED) is None
    assert decided(None, 0, "ada@acme.de", ReviewState.REJECTED) is None
    done = decided(approved, 1, "bob@acme.de", ReviewState.REJECTED)
    assert done is not None and done[PENDING_KEY] == 0 and pending_count(done) == 0
    with pytest.raises(ValueError, match=r"^decision: "):
        decided(stamped, 0, "ada@acme.de", ReviewState.PENDING)


def item_with(record: dict[str, Any] | None) -> Item:
    return Item("ws", "job_1", "000000", Lead(domain="acme.de"), ItemStatus.FOUND, 1, None, record)


def test_an_items_view_holds_pending_addresses_and_drops_rejected_ones() -> None:
    stamped = ItemPolicy(review_required=True).stamp(
        result("ada@acme.de", "bob@acme.de", "cy@acme.de").as_record()
    )
    assert shown(stamped) == ([], 3)
    view = ItemView.from_item(item_with(stamped))
    assert (view.emails, view.held_for_review) == ([], 3)
    one = decided(stamped, 0, "ada@acme.de", ReviewState.APPROVED)
    two = decided(one, 1, "bob@acme.de", ReviewState.REJECTED)
    view = ItemView.from_item(item_with(two))
    assert [(e.email, e.review) for e in view.emails] == [("ada@acme.de", ReviewState.APPROVED)]
    assert view.held_for_review == 1
    unreviewed = ItemView.from_item(item_with(ItemPolicy().stamp(result("ada@acme.de").as_record())))
    assert unreviewed.held_for_review is None and unreviewed.emails[0].review is None
    assert "held_for_review" not in unreviewed.model_dump(exclude_unset=True)  # old bodies unchanged
    assert ItemView.from_item(item_with(None)).emails == []


def test_the_policy_follows_the_job_and_the_workspace() -> None:
    settings = WorkspaceSettings(review_required=True, refused_countries=("DE",), flagged_countries=("FR",))
    lead = Lead(domain="acme.de")
    policy = ItemPolicy.of(job(), lead, settings)
    assert (policy.lawful_basis, policy.review_required, policy.region.refused) == (
        LawfulBasis.CONSENT,
        True,
        "DE",
    )
    refused = policy.refusal(lead)
    assert refused is not None and (refused.status, refused.reason) == (
        LeadStatus.INVALID,
        "region refused: DE",
    )
    assert refused.usage.paid_calls == 0 and refused.emails == []

    verifying = ItemPolicy.of(job(JobKind.VERIFICATION), Lead(domain="acme.fr"), settings)
    assert not verifying.review_required and verifying.region.flagged == "FR"  # a caller's own addresses
    assert verifying.stamp({"emails": []})["region_flag"] == "FR"
    assert verifying.refusal(Lead(domain="acme.fr")) is None
    assert ItemPolicy.of(job(), lead, None) == ItemPolicy(LawfulBasis.CONSENT)  # no settings store wired


def test_the_email_sink_gets_an_items_addresses_only_without_review() -> None:
    item = Item("ws", "job_1", "000000", Lead(domain="acme.de"), lead_id="lead-1")
    found = result("ada@acme.de")
    write = ItemPolicy(LawfulBasis.CONTRACT).email_write(item, found)
    assert write is not None and (write.lawful_basis, write.review, write.lead_id) == (
        "contract",
        None,
        "lead-1",
    )
    assert ItemPolicy(review_required=True).email_write(item, found) is None  # held until approved
    assert ItemPolicy().email_write(item_with(None), found) is None  # no stored lead
    assert ItemPolicy().email_write(item, result()) is None  # nothing found


def test_the_job_completed_callback_carries_no_address() -> None:
    """Callbacks hold nothing back because they carry nothing: counters, tags and a link to the items."""
    done = Job("ws", "job_1", JobStatus.COMPLETED, NOW, JobOptions(tags=("t",)), completed_at=NOW)
    event = JobEvent(
        type="job.completed", id="msg_1", timestamp=NOW, data=JobEventData.of(JobView.from_job(done))
    )
    assert set(JobEventData.model_fields) == {
        "job_id", "status", "completed_at", "paused_reason", "counters", "tags", "links"
    }  # fmt: skip
    assert "@" not in event.body() and '"emails"' not in event.body()
