"""Decision-maker tiers and generic role addresses."""

from __future__ import annotations

import pytest

from leadenrich.engine.ranking import (
    NOT_A_DECISION_MAKER,
    decision_tier,
    is_decision_maker,
    is_generic_address,
)


@pytest.mark.parametrize(
    ("title", "seniority", "tier"),
    [
        ("Founder & CEO", None, 1),
        ("Co-Founder", None, 1),
        ("Owner", "executive", 1),
        ("Managing Director", None, 1),
        ("President", None, 1),
        ("Geschäftsführer", None, 1),
        ("Directeur Général", None, 1),
        ("CTO", None, 2),
        ("Chief Financial Officer", None, 2),
        ("Vice President Sales", None, 3),
        ("VP Engineering", None, 3),
        ("Head of Marketing", None, 3),
        ("Strategy Lead", "executive", 4),
        ("Executive Assistant to the CEO", "executive", NOT_A_DECISION_MAKER),
        ("Software Engineer", "junior", NOT_A_DECISION_MAKER),
        (None, None, NOT_A_DECISION_MAKER),
    ],
)
def test_tiers(title: str | None, seniority: str | None, tier: int) -> None:
    assert decision_tier(title, seniority) == tier
    assert is_decision_maker(title, seniority) is (tier != NOT_A_DECISION_MAKER)


@pytest.mark.parametrize(
    ("email", "generic"),
    [
        ("info@acme.com", True),
        ("support2@acme.com", True),
        ("no-reply@acme.com", True),
        ("sales@acme.com", True),
        ("olivia.martin@acme.com", False),
        ("jsales@acme.com", False),
    ],
)
def test_generic_addresses(email: str, generic: bool) -> None:
    assert is_generic_address(email) is generic
