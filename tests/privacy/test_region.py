"""Which country a lead is in, and the workspace's region verdict (`leadenrich.privacy.region`)."""

from __future__ import annotations

import pytest

from leadenrich.privacy.region import GENERIC_COUNTRY_CODES, RegionVerdict, country_of, screen, tld_country


@pytest.mark.parametrize(
    ("domain", "country"),
    [
        ("nordlicht-energie.de", "DE"),
        ("https://www.Maison-Dupont.FR/contact", "FR"),
        ("brightlane.co.uk", "GB"),  # .uk is GB's
        ("shop.acme.com.au", "AU"),
        ("acme.com", None),
        ("acme.org", None),
        ("acme.engineering", None),
        ("acme.io", None),  # sold as a generic name
        ("acme.ai", None),
        ("acme.co", None),
        ("acme.eu", None),  # no country
        ("acme.an", None),  # no longer assigned
        ("xn--80ak6aa92e.xn--p1ai", None),  # an IDN TLD: not read
        ("not a domain", None),
        ("", None),
    ],
)
def test_the_tld_names_the_country_when_it_is_a_country_code(domain: str, country: str | None) -> None:
    assert tld_country(domain) == country


def test_the_generic_two_letter_tlds_are_all_assigned_codes() -> None:
    """Each one would otherwise be read as its country: the list is worth having only for assigned codes
    (and the two that are no country at all)."""
    from leadenrich.privacy.settings import ISO_COUNTRIES

    assert {code.upper() for code in GENERIC_COUNTRY_CODES} - ISO_COUNTRIES == {"AC", "EU", "SU"}


def test_a_providers_company_country_counts_only_when_the_tld_says_nothing() -> None:
    assert country_of("acme.com", "de") == "DE"
    assert country_of("acme.fr", "DE") == "FR"  # the TLD wins
    assert country_of("acme.com", "UK") is None  # not an ISO code: unknown rather than guessed
    assert country_of("acme.com", "") is None and country_of("acme.com") is None


def test_the_verdict_refuses_flags_or_passes() -> None:
    refused = screen("acme.de", ("DE", "AT"), ("FR",))
    assert refused == RegionVerdict("DE", refused="DE") and refused.reason == "region refused: DE"
    assert screen("acme.fr", ("DE",), ("fr",)) == RegionVerdict("FR", flagged="FR")
    assert screen("acme.de", ("DE",), ("DE",)).refused == "DE"  # refusal wins
    passed = screen("acme.it", ("DE",), ("FR",))
    assert passed == RegionVerdict("IT") and passed.reason is None
    assert screen("acme.com", ("DE",), ("FR",), company_country="DE").refused == "DE"
    assert screen("acme.com", ("US",), ("US",)) == RegionVerdict()  # unknown: neither
