"""Grading addresses a verifier cannot settle: catch-all domains accept every address, so "accepted" says
nothing about whether a person's mailbox exists (docs/engine.md, "Deliverability tiers").

The evidence left is Hunter's own sighting: an address Hunter found on a page that still shows it is
someone's real address, or was until recently. People leave and their team page goes stale, so a sighting
counts only while Hunter says the page still carries the address and saw it within `LIVE_SIGHTING_DAYS`.
When the domain's pattern is known, the address must also be what that pattern makes of the person's name:
an odd format for a known pattern is more often an old alias or another person of the same name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from leadenrich.engine.candidates import render_pattern
from leadenrich.engine.models import Deliverability
from leadenrich.engine.names import PersonName
from leadenrich.engine.providers.hunter_models import Source

# A page re-crawled within a year and still showing the address; older sightings are history.
LIVE_SIGHTING_DAYS = 365


def live_sighting(sources: Sequence[Source], today: date) -> bool:
    """Whether Hunter still sees the address on a page, and saw it there within the last year."""
    horizon = today - timedelta(days=LIVE_SIGHTING_DAYS)
    return any(
        s.still_on_page is True and (s.last_seen_on is None or s.last_seen_on >= horizon) for s in sources
    )


def fits_pattern(email: str, name: PersonName, pattern: str) -> bool:
    """Whether the address is the domain's pattern applied to one of the name's spellings."""
    local = email.split("@", 1)[0].lower()
    return any(render_pattern(pattern, variant) == local for variant in name.variants())


def catch_all_grade(
    email: str,
    sources: Sequence[Source],
    *,
    today: date,
    name: PersonName | None = None,
    pattern: str | None = None,
) -> Deliverability:
    """`high_probability` for an address Hunter sees live (and that fits the known pattern when there is a
    pattern and a name to check), `catch_all` for everything else on a catch-all domain."""
    if not live_sighting(sources, today):
        return Deliverability.CATCH_ALL
    if name is not None and pattern and not fits_pattern(email, name, pattern):
        return Deliverability.CATCH_ALL
    return Deliverability.HIGH_PROBABILITY
