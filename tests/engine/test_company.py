"""Company data's pure rules: the completeness score, a profile's age and record, names as compared, and
the decision that turns a company name into one domain or refuses to guess."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadenrich.engine.cache import InMemoryCache
from leadenrich.engine.company.cache import CompanyCache
from leadenrich.engine.company.names import company_key, name_score
from leadenrich.engine.company.profile import COMPLETENESS_WEIGHTS, CompanyProfile
from leadenrich.engine.company.resolution import (
    DomainResolution,
    ResolutionMethod,
    ResolutionStatus,
    decide,
)
from tests.support.scripted_company import FULL

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def profile(**fields: object) -> CompanyProfile:
    return CompanyProfile(domain="acme-robotics.com", fetched_at=NOW, **fields)  # type: ignore[arg-type]


def test_completeness_is_the_weights_of_the_fields_that_hold_something() -> None:
    assert sum(COMPLETENESS_WEIGHTS.values()) == 100
    assert profile().completeness == 0
    assert profile(**FULL).completeness == 100
    assert profile(name="Acme", industry="Machinery", employees="11-50").completeness == 50
    # Blank text and an empty technology list count nothing; the legal name and sector are not scored.
    assert profile(name="  ", technologies=(), legal_name="Acme Inc.", sector="Industrials").completeness == 0
    for field, weight in COMPLETENESS_WEIGHTS.items():
        emptied: dict[str, Any] = {field: () if field == "technologies" else None}
        missing = replace(profile(**FULL), **emptied)
        assert missing.completeness == 100 - weight, field


def test_a_profile_is_stale_past_the_maximum_age_and_its_record_round_trips() -> None:
    fetched = profile(**FULL)
    ninety = timedelta(days=90)
    assert not fetched.is_stale(NOW + ninety, ninety)
    assert fetched.is_stale(NOW + ninety + timedelta(seconds=1), ninety)
    record = fetched.as_record()
    assert record["completeness"] == 100
    assert record["fetched_at"] == "2026-11-22T12:00:00+00:00"
    assert CompanyProfile.from_record(record) == fetched
    for junk in ({}, {"domain": "acme.com"}, {"domain": "acme.com", "fetched_at": "yesterday"}):
        assert CompanyProfile.from_record(junk) is None
    odd = CompanyProfile.from_record({**record, "founded_year": "2014", "technologies": "Slack", "city": 3})
    assert odd is not None and (odd.founded_year, odd.technologies, odd.city) == (None, (), None)


@pytest.mark.parametrize(
    ("wanted", "found", "low", "high"),
    [
        ("Acme Robotics", "Acme Robotics Inc.", 100, 100),
        ("ACME robotics inc", "Acme Robotics, Inc.", 100, 100),
        ("Muller Bau", "Müller Bau GmbH & Co. KG", 100, 100),
        ("Acme", "Acme Robotics Ltd", 85, 85),  # the brand as exports write it, or another company
        ("Acme Robotics Ltd", "Acme", 85, 85),
        ("Mueller Bau", "Müller Bau GmbH", 80, 84),  # a transliteration: alike, below a brand match
        ("Acme Robotcs", "Acme Robotics", 80, 84),  # a typo: the same
        ("Acme", "Globex Analytics", 0, 40),
        ("Inc.", "Acme", 0, 0),  # nothing left of the name to compare
    ],
)
def test_names_are_compared_without_legal_form_case_accents_or_punctuation(
    wanted: str, found: str, low: int, high: int
) -> None:
    assert low <= name_score(wanted, found) <= high


def test_company_key() -> None:
    assert company_key("The Smith & Co.") == "smith"
    assert company_key("Brightlane Ltd") == company_key("brightlane") == "brightlane"


def found(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return list(pairs)


def test_one_matching_company_resolves_with_its_score_as_confidence() -> None:
    resolution = decide(
        "Acme Robotics",
        found(("acme-robotics.com", "Acme Robotics Inc."), ("globex.io", "Globex")),
        ResolutionMethod.DISCOVER,
    )
    assert resolution.status is ResolutionStatus.RESOLVED
    assert (resolution.domain, resolution.confidence, resolution.matched_name) == (
        "acme-robotics.com",
        100,
        "Acme Robotics Inc.",
    )


def test_an_exact_brand_beats_longer_names_that_start_alike() -> None:
    resolution = decide(
        "Acme",
        found(
            ("acme.com", "Acme Inc."), ("acme-robotics.com", "Acme Robotics"), ("acmefoods.com", "Acme Foods")
        ),
        ResolutionMethod.DISCOVER,
    )
    assert (resolution.status, resolution.domain, resolution.confidence) == (
        ResolutionStatus.RESOLVED,
        "acme.com",
        100,
    )


def test_two_companies_sharing_a_brand_are_ambiguous_and_reported_not_guessed() -> None:
    resolution = decide(
        "Brightlane",
        found(("brightlane.co.uk", "Brightlane Ltd"), ("brightlane.io", "Brightlane Inc.")),
        ResolutionMethod.DISCOVER,
    )
    assert resolution.status is ResolutionStatus.AMBIGUOUS
    assert resolution.domain is None and resolution.confidence == 0
    assert [c.domain for c in resolution.candidates] == ["brightlane.co.uk", "brightlane.io"]
    assert resolution.reason.startswith("company_ambiguous: 'Brightlane' matches 2 companies")
    assert "brightlane.io" in resolution.reason and "give the lead's domain" in resolution.reason
    # Names that only start alike, equally well: as ambiguous.
    alike = decide(
        "Acme", found(("a.com", "Acme Robotics"), ("b.com", "Acme Foods")), ResolutionMethod.DISCOVER
    )
    assert alike.status is ResolutionStatus.AMBIGUOUS


def test_nothing_close_enough_is_unknown() -> None:
    resolution = decide(
        "Acme Robotics",
        found(("globex.io", "Globex Analytics"), ("", "Acme Robotics")),
        ResolutionMethod.DISCOVER,
    )
    assert resolution.status is ResolutionStatus.UNKNOWN
    assert resolution.reason.startswith("company_unknown:")
    assert decide("Acme", [], ResolutionMethod.DOMAIN_SEARCH).status is ResolutionStatus.UNKNOWN


def test_a_resolution_record_round_trips() -> None:
    for resolution in (
        decide("Acme", found(("acme.com", "Acme")), ResolutionMethod.DOMAIN_SEARCH),
        decide(
            "Brightlane", found(("b.co.uk", "Brightlane"), ("b.io", "Brightlane")), ResolutionMethod.DISCOVER
        ),
    ):
        assert DomainResolution.from_record(resolution.as_record()) == resolution
    assert DomainResolution.from_record({"status": "resolved"}) is None
    assert DomainResolution.from_record({"company_name": "x", "status": "maybe"}) is None


async def test_the_cache_keeps_a_profile_until_it_is_older_than_the_maximum_age() -> None:
    port = InMemoryCache()
    cache = CompanyCache(port, timedelta(days=90))
    await cache.put_company("acme-robotics.com", profile(**FULL))
    hit = await cache.company("acme-robotics.com", NOW + timedelta(days=89))
    assert hit is not None and hit.profile == profile(**FULL)
    # The cache may hold it longer (a maximum age lowered since): too old is a miss all the same.
    assert await cache.company("acme-robotics.com", NOW + timedelta(days=91)) is None
    await cache.put_company("unknown.com", None)
    nothing = await cache.company("unknown.com", NOW)
    assert nothing is not None and nothing.profile is None
    assert await cache.company("never-asked.com", NOW) is None


async def test_the_cache_keeps_a_resolution_under_the_name_as_compared() -> None:
    cache = CompanyCache(InMemoryCache(), timedelta(days=90))
    await cache.put_resolution(
        decide("Acme Robotics", found(("acme-robotics.com", "Acme Robotics")), ResolutionMethod.DISCOVER)
    )
    hit = await cache.resolution("ACME Robotics Inc.")
    assert hit is not None and hit.domain == "acme-robotics.com"
    assert hit.company_name == "ACME Robotics Inc."  # the asker's spelling on its result
    assert await cache.resolution("Globex") is None
