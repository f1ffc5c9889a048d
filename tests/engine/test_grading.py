"""Lead statuses that mean what they say, graded deliverability, whom an address reaches, and the finder's
own verification reused: each rule once, against scripted providers behind the ports (the share of real
mailboxes per tier is measured on the simulator by bench.tiers)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadenrich.engine.models import (
    Contact,
    Deliverability,
    EmailStatus,
    EmailType,
    HunterStatus,
    Lead,
    LeadStatus,
    Method,
)
from tests.support.scripted_providers import RECENT, TODAY, Script, make_enricher, row, sighting


async def test_a_catch_all_row_hunter_still_sees_in_the_domains_pattern_is_high_probability(
    script: Script,
) -> None:
    script.accept_all.add("acme.com")
    script.pattern["acme.com"] = "{first}.{last}"
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "CEO", 91, sources=[sighting()])]
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.RISKY
    [email] = result.emails
    assert email.deliverability is Deliverability.HIGH_PROBABILITY
    assert (email.status, email.hunter_status) == (EmailStatus.INACTIVE, HunterStatus.RISKY)
    assert script.calls("email_verifier") == []  # a catch-all server would accept anything: nothing to buy


@pytest.mark.parametrize(
    ("address", "sources", "why"),
    [
        ("olivia.martin@acme.com", [], "Hunter never saw it on a page"),
        ("olivia.martin@acme.com", [sighting(still_on_page=False)], "the page no longer shows it"),
        ("olivia.martin@acme.com", [sighting(days_ago=500)], "last seen more than a year ago"),
        ("omartin@acme.com", [sighting()], "not the domain's pattern for her name"),
    ],
)
async def test_weaker_evidence_on_a_catch_all_domain_is_graded_catch_all(
    script: Script, address: str, sources: list[dict[str, object]], why: str
) -> None:
    script.accept_all.add("acme.com")
    script.pattern["acme.com"] = "{first}.{last}"
    script.rows["acme.com"] = [row(address, "CEO", 91, sources=sources)]
    script.rows["acme.com"][0] |= {"first_name": "Olivia", "last_name": "Martin"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com"))
    assert result.status is LeadStatus.RISKY, why
    assert result.emails[0].deliverability is Deliverability.CATCH_ALL, why


async def test_a_pattern_guess_on_a_catch_all_domain_is_catch_all_and_costs_no_verification(
    script: Script,
) -> None:
    script.accept_all.add("acme.com")
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert result.status is LeadStatus.RISKY
    [email] = result.emails
    assert (email.email, email.method) == ("jane.doe@acme.com", Method.KNOWN_PATTERN)
    assert email.deliverability is Deliverability.CATCH_ALL
    assert script.calls("email_verifier") == [] and script.calls("email_finder") == []


async def test_a_finder_hit_on_a_catch_all_domain_is_graded_by_its_sources(script: Script) -> None:
    script.accept_all.add("acme.com")
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    script.finder[("jane", "doe")] = {
        "email": "jane.doe@acme.com",
        "score": 88,
        "accept_all": True,
        "sources": [sighting()],
        "verification": {"date": RECENT, "status": "accept_all"},
    }
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert result.status is LeadStatus.RISKY
    assert (
        result.emails[0].deliverability is Deliverability.HIGH_PROBABILITY
    )  # no pattern known to contradict
    assert script.calls("email_verifier") == []


async def test_an_unknown_verdict_defers_with_the_address_and_the_last_try_keeps_it_as_risky(
    script: Script,
) -> None:
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    script.verdicts["jane.doe@acme.com"] = "unknown"
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert result.status is LeadStatus.DEFERRED and result.retry_after  # worth another try first
    [email] = result.emails
    assert (email.deliverability, email.status, email.hunter_status) == (
        Deliverability.UNKNOWN,
        EmailStatus.INACTIVE,
        HunterStatus.UNKNOWN,
    )
    last = result.settled()
    assert last.status is LeadStatus.RISKY and last.emails == [email] and last.retry_after is None
    assert last.as_record()["status"] == "risky"


def test_settling_changes_nothing_but_a_deferral_with_addresses() -> None:
    from leadenrich.engine.models import EnrichmentResult

    bare = EnrichmentResult(domain="acme.com", status=LeadStatus.DEFERRED, retry_after=30.0)
    assert bare.settled() is bare  # nothing to keep: the runtime's dead-letter rule applies
    done = EnrichmentResult(domain="acme.com", status=LeadStatus.NOT_FOUND)
    assert done.settled() is done


async def test_a_verified_address_beats_an_unknown_one_and_makes_the_lead_found(script: Script) -> None:
    script.pattern["acme.com"] = "{first}.{last}"
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]},
        {"name": "Sam Lee", "title": "CTO", "source_urls": ["https://acme.com/about"]},
    ]
    script.verdicts["jane.doe@acme.com"] = "unknown"
    script.mailboxes = {"sam.lee@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert result.status is LeadStatus.FOUND
    assert [e.email for e in result.emails] == ["sam.lee@acme.com"]
    assert result.emails[0].deliverability is Deliverability.VERIFIED


async def test_a_finder_hit_hunter_verified_recently_costs_no_second_verification(script: Script) -> None:
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    script.finder[("jane", "doe")] = {
        "email": "jane.doe@acme.com",
        "score": 93,
        "accept_all": False,
        "verification": {"date": RECENT, "status": "valid"},
    }
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert result.status is LeadStatus.FOUND
    [email] = result.emails
    assert (email.method, email.deliverability) == (Method.EMAIL_FINDER, Deliverability.VERIFIED)
    assert email.verified_at is not None and email.verified_at.date().isoformat() == RECENT
    assert script.calls("email_verifier") == []
    assert result.usage.hunter.credits == 1.0  # the finder's hit, verification included


@pytest.mark.parametrize(
    ("verification", "score"),
    [
        ({"date": (TODAY - timedelta(days=60)).isoformat(), "status": "valid"}, 93),  # stale
        ({"date": None, "status": "valid"}, 93),  # undated: how fresh is unknown
        ({"date": RECENT, "status": "unknown"}, 93),
        ({"date": RECENT, "status": "valid"}, 75),  # valid, but not confident enough to be `active`
    ],
)
async def test_a_finder_hit_without_a_fresh_confident_valid_is_verified_once(
    script: Script, verification: dict[str, object], score: int
) -> None:
    script.people["acme.com"] = [
        {"name": "Jane Doe", "title": "CEO", "source_urls": ["https://acme.com/about"]}
    ]
    script.finder[("jane", "doe")] = {
        "email": "jane.doe@acme.com",
        "score": score,
        "accept_all": False,
        "verification": verification,
    }
    script.mailboxes = {"jane.doe@acme.com"}
    result = await make_enricher(script).enrich(Lead(domain="acme.com", company_name="Acme"))
    assert [c.args["email"] for c in script.calls("email_verifier")] == ["jane.doe@acme.com"]
    assert result.status is LeadStatus.FOUND
    assert result.emails[0].verified_at is not None and result.emails[0].verified_at.date() == TODAY


async def test_each_address_says_whom_it_reaches(script: Script) -> None:
    script.rows["acme.com"] = [row("olivia.martin@acme.com", "Founder", 96, "valid", RECENT)]
    script.generic_rows["globex.com"] = [row("info@globex.com", None, 90, "valid", RECENT, kind="generic")]
    script.finder[("sam", "lee")] = {
        "email": "sam.lee@initech.com",
        "score": 95,
        "verification": {"date": RECENT, "status": "valid"},
    }
    enricher = make_enricher(script)
    decision_maker = await enricher.enrich(Lead(domain="acme.com"))
    generic = await enricher.enrich(Lead(domain="globex.com"))
    named = await enricher.enrich(Lead(domain="initech.com", first_name="Sam", last_name="Lee"))
    assert decision_maker.contact is Contact.DECISION_MAKER
    assert generic.status is LeadStatus.FOUND and generic.contact is Contact.GENERIC  # found, and says so
    assert generic.emails[0].email_type is EmailType.SECONDARY
    assert named.contact is Contact.NAMED_PERSON
    assert named.as_record()["contact"] == "named_person"
    assert named.as_record()["emails"][0]["contact"] == "named_person"  # type: ignore[index]
