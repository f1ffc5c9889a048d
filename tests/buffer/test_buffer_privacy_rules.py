"""The buffer's personal-data rules on their own: how long a lead is kept (`buffer.retention`), what an
erasure does to a stored lead record (`buffer.erasure`), whichever store holds it, and to `POST /enrich`'s
cached person profiles (`privacy.erasure_rules`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadenrich.buffer.erasure import DELETE, BufferRow, cursor_named, lead_links, scrub_lead
from leadenrich.buffer.models import Enrichment
from leadenrich.buffer.retention import REGISTRY_DAYS, registry_expiry, served_days, waiting_expiry
from leadenrich.jobs.retention import DAY_SECONDS
from leadenrich.privacy.erasure_rules import DELETE as DELETE_CACHED
from leadenrich.privacy.erasure_rules import ERASED, Person, Subject, cache_links, scrub_cache
from leadenrich.privacy.ports import WorkspaceSettings

AT = datetime(2026, 6, 1, tzinfo=UTC)
ADA = "ada.lovelace@acme.com"
ADA_PERSON = Person("ada", "lovelace", "acme.com", "Ada", "Lovelace")  # as `Person.of` makes her
BY_ADDRESS = Subject(addresses=frozenset({ADA}))


def enrichment(*statuses: str) -> Enrichment:
    emails = [{"email": f"p{n}@acme.com", "status": s} for n, s in enumerate(statuses)]
    return Enrichment(result={"status": "found", "emails": emails})


@pytest.mark.parametrize(
    ("found", "days"),
    [((), 90), (("active",), 90), (("active", "inactive"), 90), (("inactive",), 30), (("inactive", "x"), 30)],
)
def test_a_served_lead_keeps_the_results_period_unless_all_it_found_is_unverified(
    found: tuple[str, ...], days: int
) -> None:
    assert served_days(WorkspaceSettings(), enrichment(*found)) == days


def test_the_unverified_period_never_lengthens_the_results_period() -> None:
    settings = WorkspaceSettings(results_retention_days=10, unverified_retention_days=30)
    assert served_days(settings, enrichment("inactive")) == 10
    assert waiting_expiry(settings, AT) == int(AT.timestamp()) + 10 * DAY_SECONDS
    assert registry_expiry(AT) == int(AT.timestamp()) + REGISTRY_DAYS * DAY_SECONDS


def test_the_persons_own_lead_is_deleted_whatever_its_state() -> None:
    for lead in (
        {"domain": "acme.com", "email": ADA},
        {"domain": "acme.com", "first_name": "ADA", "last_name": "Lovelace"},
    ):
        subject = BY_ADDRESS | Subject(people=frozenset({ADA_PERSON}))
        assert scrub_lead(BufferRow(lead, None, None, None), subject) == DELETE
    company = BufferRow({"domain": "acme.com"}, None, None, None)
    assert scrub_lead(company, Subject(domains=frozenset({"acme.com"}))) == DELETE


def test_another_lead_loses_only_the_persons_addresses_and_data_naming_them() -> None:
    result = {
        "status": "found",
        "reason": None,
        "emails": [
            {"email": ADA, "person": "Ada Lovelace", "email_type": "primary", "contact": "decision_maker"},
            {"email": "grace@acme.com", "person": "Grace Hopper", "email_type": "secondary"},
        ],
    }
    row = BufferRow({"domain": "acme.com"}, {"note": f"ask {ADA}"}, result, "hunter: took too long")
    change = scrub_lead(row, BY_ADDRESS)
    assert change is not None and not change.delete and change.data is None and change.error == ERASED
    assert change.result is not None and [e["email"] for e in change.result["emails"]] == ["grace@acme.com"]
    assert change.result["emails"][0]["email_type"] == "primary"
    assert lead_links(row, BY_ADDRESS).people == {ADA_PERSON}  # her address named her
    untouched = BufferRow({"domain": "globex.io"}, {"list": "q3"}, None, None)
    assert scrub_lead(untouched, BY_ADDRESS) is None
    assert cursor_named({"last": ADA.upper()}, BY_ADDRESS) and not cursor_named({"page": 1}, BY_ADDRESS)


def test_enrichs_cached_profile_is_erased_by_address_or_person_and_names_its_owner() -> None:
    key = f"v1:pe:{ADA}"
    profile = {
        "found": True,
        "profile": {"first_name": "Ada", "last_name": "Lovelace", "company_domain": "acme.com"},
    }
    assert scrub_cache(key, profile, BY_ADDRESS) == DELETE_CACHED
    assert scrub_cache(key, profile, Subject(people=frozenset({ADA_PERSON}))) == DELETE_CACHED
    assert scrub_cache(key, profile, Subject(addresses=frozenset({"grace@acme.com"}))) is None
    assert cache_links(key, profile, BY_ADDRESS).people == {ADA_PERSON}
    assert cache_links(key, profile, Subject(people=frozenset({ADA_PERSON}))).addresses == {ADA}
